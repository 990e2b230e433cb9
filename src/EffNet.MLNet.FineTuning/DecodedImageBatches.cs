using EffNet.MLNet.Architecture;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// The minimal batch source: every image decoded once by the library's decoder and kept in memory,
/// no augmentation, a seeded shuffle per epoch. Each image is the square serving makes: decoded to
/// the serving side (the resolution scaled by the weights' resize/crop ratio, 73 px for 64) and
/// centre-cropped to the resolution, as the saved graph crops it. With flips, each image of an epoch is
/// mirrored left-right with probability 1/2, drawn from (seed, epoch, image).
/// </summary>
internal sealed class DecodedImageBatches : ITrainingBatches
{
    private const ulong FlipStream = 0xF119;
    private readonly float[][] _pixels;
    private readonly int[] _labels;
    private readonly int _batchSize;
    private readonly int _seed;
    private readonly bool _shuffle;
    private readonly bool _flip;
    private readonly int _resolution;

    // servingSide: the square serving decodes to before its centre crop; null: the resolution itself (no crop).
    public DecodedImageBatches(IReadOnlyList<(string Path, int Label)> images, int resolution, int batchSize, int seed, bool shuffle, int? servingSide = null, bool horizontalFlip = false)
    {
        _flip = horizontalFlip;
        _resolution = resolution;
        var side = servingSide ?? resolution;
        _batchSize = batchSize;
        _seed = seed;
        _shuffle = shuffle;
        _labels = images.Select(i => i.Label).ToArray();
        _pixels = new float[images.Count][];
        try
        {
            Decode(images, resolution, side);
        }
        catch (AggregateException e) when (e.Flatten().InnerExceptions is [BadImageException first, ..])
        {
            // The damaged file's own error, naming it, not the parallel loop's wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }

    private void Decode(IReadOnlyList<(string Path, int Label)> images, int resolution, int side)
    {
        var offset = (side - resolution) / 2;
        Parallel.For(0, images.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var square = new float[3 * side * side];
            FastImageDecoder.Decode(images[i].Path, side, square);
            var buffer = new float[3 * resolution * resolution];
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < resolution; y++)
                    square.AsSpan(c * side * side + (y + offset) * side + offset, resolution).CopyTo(buffer.AsSpan(c * resolution * resolution + y * resolution, resolution));
            _pixels[i] = buffer;
        });
    }

    public int Count => (_labels.Length + _batchSize - 1) / _batchSize;

    public int Images => _labels.Length;

    public int Size(int batchIndex) => Math.Min(_batchSize, _labels.Length - batchIndex * _batchSize);

    public void Fill(int epoch, int batchIndex, Span<float> pixelsNchw0To255, Span<long> labels)
    {
        var order = Order(epoch);
        var per = _pixels.Length == 0 ? 0 : _pixels[0].Length;
        for (var i = 0; i < Size(batchIndex); i++)
        {
            var image = order[batchIndex * _batchSize + i];
            var destination = pixelsNchw0To255.Slice(i * per, per);
            _pixels[image].CopyTo(destination);
            if (_flip && Data.SeededRandom.For(_seed, epoch, image, FlipStream).Chance(0.5))
                for (var row = 0; row < per; row += _resolution) destination.Slice(row, _resolution).Reverse();
            labels[i] = _labels[image];
        }
    }

    private int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, _labels.Length).ToArray();
        if (_shuffle) new Random(unchecked(_seed * 1_000_003 + epoch) & int.MaxValue).Shuffle(order);
        return order;
    }

    /// <summary>The side serving decodes an image to for <paramref name="resolution"/>: the same rule as the featurizer's.</summary>
    public static int ServingSide(EfficientNetVariant variant, int resolution)
    {
        var eval = Catalog.PretrainedCatalog.EvalTransformFor(variant);
        return resolution == eval.CropSize ? eval.ResizeSize : (int)Math.Round(resolution * (double)eval.ResizeSize / eval.CropSize);
    }
}
