using SkiaSharp;

namespace EffNet.MLNet.Imaging;

/// <summary>
/// An encoded image held in memory with its decoder, opened through the header checks every
/// reader shares (exists, not empty, a format the decoder knows, a sane declared size). The
/// checks of the body happen when it is decoded: <see cref="Outcome"/> turns the decoder's
/// status into "fine", "truncated" or a <see cref="BadImageException"/>.
/// </summary>
internal sealed class OpenedImage : IDisposable
{
    private readonly string _name;
    private readonly SKData _data;

    private OpenedImage(string name, SKData data, SKCodec codec)
    {
        _name = name;
        _data = data;
        Codec = codec;
    }

    public SKCodec Codec { get; }

    /// <summary>Open the file at <paramref name="path"/>.</summary>
    /// <exception cref="BadImageException">It is missing, unreadable, not an image, or declares more pixels than the limit or the decoding budget allow.</exception>
    public static OpenedImage Open(string path, long maxPixels, long maxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes) =>
        WithFile(path, stream =>
        {
            CheckBeforeReading(stream, path, maxPixels, maxDecodedBytes);
            return Open(stream, path, maxPixels, maxDecodedBytes);
        });

    /// <summary>
    /// The whole file at <paramref name="path"/>, read once, after the checks <see cref="CheckHeader"/> makes
    /// (its length against <see cref="DecodeBudget.MaxEncodedBytes"/>, its header against the decoding budget).
    /// </summary>
    /// <exception cref="BadImageException">It is missing, a directory, unreadable, too large a file, or its header is refused.</exception>
    public static byte[] ReadFile(string path, long maxPixels = ImageCheck.DefaultMaxPixels, long maxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes)
    {
        BeforeRead.Value?.Invoke(path);
        return WithFile(path, stream =>
        {
            CheckBeforeReading(stream, path, maxPixels, maxDecodedBytes);
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        });
    }

    // A file is read whole only once its length and its header pass: a multi-gigabyte file named .jpg
    // (or a sparse one) would otherwise be in memory before the decoding budget saw its declared size.
    // The stream is left at its start.
    private static void CheckBeforeReading(FileStream stream, string path, long maxPixels, long maxDecodedBytes)
    {
        var length = stream.Length;
        if (length == 0) throw new BadImageException(path, "is empty (0 bytes)");
        if (length > DecodeBudget.MaxEncodedBytes)
            throw new BadImageException(path, $"is {length:N0} bytes, more than the {DecodeBudget.MaxEncodedBytes >> 20:N0} MiB an encoded image may be; it was not read");
        using (CreateCodec(new SKManagedStream(stream, disposeManagedStream: false), path, length, maxPixels, maxDecodedBytes)) { }
        stream.Position = 0;
    }

    /// <summary>Test seam: runs just before <see cref="ReadFile"/> reads a file (in this async flow and the threads it starts).</summary>
    internal static readonly AsyncLocal<Action<string>?> BeforeRead = new();

    /// <summary>Check the header of the file at <paramref name="path"/>, reading no more of it than the decoder needs for that.</summary>
    /// <exception cref="BadImageException">It is missing, unreadable, empty, not an image, or declares too many pixels.</exception>
    public static void CheckHeader(string path, long maxPixels, long maxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes) => WithFile(path, stream =>
    {
        CheckBeforeReading(stream, path, maxPixels, maxDecodedBytes);
        return true;
    });

    /// <summary>Open the image in <paramref name="stream"/> (read from its position to its end); <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="BadImageException">It is empty, not an image, or declares too many pixels.</exception>
    public static OpenedImage Open(Stream stream, string name, long maxPixels, long maxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes)
    {
        var data = SKData.Create(stream) ?? throw new BadImageException(name, "cannot be read");
        try
        {
            if (data.Size == 0) throw new BadImageException(name, "is empty (0 bytes)");
            return new OpenedImage(name, data, CreateCodec(new SKMemoryStream(data), name, data.Size, maxPixels, maxDecodedBytes));
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private static T WithFile<T>(string path, Func<FileStream, T> use)
    {
        // Asked before opening: opening a FIFO blocks until a writer comes, and a device never ends.
        if (FileKind.NotRegular(path) is { } problem) throw new BadImageException(path, problem);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return use(stream);
        }
        catch (UnauthorizedAccessException ex) { throw new BadImageException(path, "cannot be read (permission denied)", ex); }
        catch (IOException ex) when (ex is not BadImageException) { throw new BadImageException(path, $"cannot be read ({ex.Message})", ex); }
    }

    // The decoder for the data, with the header checks: a format it knows, a declared size within the
    // pixel limit and the decoding budget (see DecodeBudget), planned before any pixel is allocated.
    private static SKCodec CreateCodec(SKStream stream, string name, long encodedBytes, long maxPixels, long maxDecodedBytes)
    {
        // The codec owns the stream from here on; when none can be made, Skia has already freed it.
        var codec = SKCodec.Create(stream, out var result)
            ?? throw new BadImageException(name, $"is not an image the decoder can read ({Describe(result)})");
        var info = codec.Info;
        var problem = DecodeBudget.Problem(info.Width, info.Height, encodedBytes, maxPixels, maxDecodedBytes);
        if (problem is null) return codec;
        codec.Dispose();
        throw new BadImageException(name, problem);
    }

    /// <summary>
    /// What a decode that returned <paramref name="status"/> means: false for a whole image, true for
    /// a truncated one that <paramref name="acceptTruncated"/> lets through (its missing rows are filled).
    /// </summary>
    /// <exception cref="BadImageException">The image is damaged, or truncated and not accepted.</exception>
    public bool Outcome(SKCodecResult status, bool acceptTruncated)
    {
        if (status == SKCodecResult.Success) return false;
        var endsEarly = ImageEnd.EndsEarly(_data.AsSpan(), Codec.EncodedFormat);
        if (status == SKCodecResult.IncompleteInput && endsEarly)
        {
            if (acceptTruncated) return true;
            throw new BadImageException(_name, TruncatedReason);
        }
        if (endsEarly) throw new BadImageException(_name, TruncatedReason + ", and what is there cannot be decoded");
        var why = status == SKCodecResult.IncompleteInput ? "the decoder stopped before the end of the file" : Describe(status);
        throw new BadImageException(_name, $"is damaged: its {Format} data is corrupt ({why})");
    }

    /// <summary>Why a truncated image is bad (or, when accepted, what the warning says).</summary>
    public string TruncatedReason => $"is truncated: the {Format} data ends after {_data.Size:N0} bytes, before the image does";

    private string Format => Codec.EncodedFormat.ToString().ToUpperInvariant();

    public void Dispose()
    {
        Codec.Dispose();
        _data.Dispose();
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the data ends early",
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => "corrupt data",
        SKCodecResult.Unimplemented => "unsupported format",
        _ => result.ToString(),
    };
}
