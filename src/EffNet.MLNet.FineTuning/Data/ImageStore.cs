using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// The decoded form of each training image, kept in memory while a byte budget lasts and decoded again on
/// each use past it. Without augmentation an image is the library's own input square (exactly what the served
/// model sees); with it, the working image the crops are taken from. Decoding is deterministic, so whether an
/// image came from the cache never changes a pixel.
/// </summary>
internal sealed class ImageStore
{
    private readonly IReadOnlyList<string> _paths;
    private readonly ImagePreparation _preparation;
    private readonly bool _squares;
    private readonly int _workingSide;
    private readonly bool _acceptTruncated;
    private readonly long _maxPixels;
    private readonly WorkingImage?[] _cache;
    private readonly long _cacheBudget;
    private long _cached;

    public ImageStore(IReadOnlyList<string> paths, ImagePreparation preparation, bool squares, int workingSide, long cacheBytes, bool acceptTruncated, long maxPixels)
    {
        _paths = paths;
        _preparation = preparation;
        _squares = squares;
        _workingSide = workingSide;
        _cacheBudget = cacheBytes;
        _acceptTruncated = acceptTruncated;
        _maxPixels = maxPixels;
        _cache = new WorkingImage?[paths.Count];
    }

    /// <summary>Bytes held in the cache now.</summary>
    public long CachedBytes => Interlocked.Read(ref _cached);

    /// <summary>Image <paramref name="index"/>, from the cache or decoded (and cached if the budget allows).</summary>
    /// <exception cref="BadImageException">The image cannot be used.</exception>
    public WorkingImage Get(int index)
    {
        var image = Volatile.Read(ref _cache[index]);
        if (image is not null) return image;
        image = _squares ? Square(_paths[index]) : WorkingImageDecoder.Decode(_paths[index], _workingSide, _preparation.Filter, _acceptTruncated, _maxPixels);
        if (Interlocked.Add(ref _cached, image.Bytes) <= _cacheBudget) Volatile.Write(ref _cache[index], image);
        else Interlocked.Add(ref _cached, -image.Bytes);
        return image;
    }

    // The library's input square (planar floats that are whole bytes) packed as RGB bytes.
    private WorkingImage Square(string path)
    {
        var size = _preparation.Size;
        var plane = size * size;
        var planar = new float[3 * plane];
        _preparation.Decode(path, planar, _acceptTruncated, _maxPixels);
        var rgb = new byte[3 * plane];
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++)
                rgb[3 * i + c] = (byte)planar[c * plane + i];
        return new WorkingImage(size, size, rgb);
    }
}
