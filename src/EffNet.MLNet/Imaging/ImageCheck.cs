using SkiaSharp;

namespace EffNet.MLNet.Imaging;

/// <summary>An image that cannot be used, and why.</summary>
/// <param name="ImagePath">The file.</param>
/// <param name="Reason">What is wrong with it.</param>
public sealed record BadImage(string ImagePath, string Reason);

/// <summary>What a full check found wrong with an image.</summary>
/// <param name="Reason">What is wrong, as a phrase ("is truncated (…)").</param>
/// <param name="Truncated">True when the only fault is that the data ends early: decoders can show the rows that arrived.</param>
public sealed record ImageProblem(string Reason, bool Truncated);

/// <summary>
/// Checks that an image is usable before a batch of thousands fails deep inside ML.NET on one
/// file. <see cref="HeaderProblem(string, long)"/> reads the header alone (exists, not empty, a
/// format the decoder knows, a sane declared size); <see cref="Problem(string, bool, long)"/> and
/// <see cref="Inspect(string, long)"/> also decode the body (at the decoder's smallest scale), so
/// a damaged or truncated body is found too. Truncated images are bad unless the caller accepts
/// them, as PIL and TensorFlow refuse them by default. Every check works on a file or on a stream
/// (an upload's bytes) with a name for messages.
/// </summary>
public static class ImageCheck
{
    /// <summary>Default limit on declared pixels (width × height): about 180 megapixels.</summary>
    public const long DefaultMaxPixels = 180_000_000;

    /// <summary>
    /// Default decoding budget for training, featurizing and the CLI: 512 MiB of decoded pixels, the one
    /// full-size RGBA copy (4 bytes a pixel) a decode holds, so images up to about 134 megapixels. An image
    /// whose header declares more, or more than 1,000 pixels per byte of its file once past 4 megapixels
    /// (a compression bomb), is refused before any pixel is allocated. Serving has a lower default
    /// (<c>PooledPredictorOptions.DefaultMaxDecodedBytes</c>).
    /// </summary>
    public const long DefaultMaxDecodedBytes = 512L << 20;

    /// <summary>Null when the header looks usable, else the reason it is not. Does not decode the body.</summary>
    public static string? HeaderProblem(string path, long maxPixels = DefaultMaxPixels)
    {
        try
        {
            OpenedImage.CheckHeader(path, maxPixels);
            return null;
        }
        catch (BadImageException ex) { return ex.Reason; }
    }

    /// <summary>Null when the image decodes fully (or is truncated and <paramref name="acceptTruncated"/>), else the reason it is not usable.</summary>
    public static string? Problem(string path, bool acceptTruncated = false, long maxPixels = DefaultMaxPixels) =>
        Verdict(Inspect(path, maxPixels), acceptTruncated);

    /// <summary>
    /// Null when the image in <paramref name="image"/> (from its position to its end) decodes fully, or is
    /// truncated and <paramref name="acceptTruncated"/>; else the reason. A seekable stream is left where it was.
    /// </summary>
    public static string? Problem(Stream image, bool acceptTruncated = false, long maxPixels = DefaultMaxPixels) =>
        Verdict(Inspect(image, maxPixels), acceptTruncated);

    /// <summary>Decode <paramref name="path"/> once to find what, if anything, is wrong with it.</summary>
    public static ImageProblem? Inspect(string path, long maxPixels = DefaultMaxPixels)
    {
        try
        {
            using var image = OpenedImage.Open(path, maxPixels);
            return Decode(image);
        }
        catch (BadImageException ex) { return new ImageProblem(ex.Reason, false); }
    }

    /// <summary>Decode the image in <paramref name="image"/> once to find what, if anything, is wrong with it. A seekable stream is left where it was.</summary>
    public static ImageProblem? Inspect(Stream image, long maxPixels = DefaultMaxPixels)
    {
        ArgumentNullException.ThrowIfNull(image);
        var start = image.CanSeek ? image.Position : -1;
        try
        {
            using var encoded = OpenedImage.Open(image, "image", maxPixels);
            return Decode(encoded);
        }
        catch (BadImageException ex) { return new ImageProblem(ex.Reason, false); }
        finally
        {
            if (start >= 0) image.Position = start;
        }
    }

    /// <summary>
    /// Throw <see cref="BadImageException"/> naming <paramref name="name"/> unless the image in
    /// <paramref name="image"/> is usable. Returns true when it is truncated and was accepted
    /// (<paramref name="acceptTruncated"/>): the caller should warn. A seekable stream is left where it was.
    /// </summary>
    /// <exception cref="BadImageException">The image is not usable; <see cref="BadImageException.InputName"/> is <paramref name="name"/>.</exception>
    public static bool ThrowIfBad(Stream image, string name, bool acceptTruncated = false, long maxPixels = DefaultMaxPixels) =>
        Throw(Inspect(image, maxPixels), name, acceptTruncated);

    /// <summary>Throw <see cref="BadImageException"/> naming <paramref name="path"/> unless it is usable; true when truncated and accepted.</summary>
    /// <exception cref="BadImageException">The image is not usable.</exception>
    public static bool ThrowIfBad(string path, bool acceptTruncated = false, long maxPixels = DefaultMaxPixels) =>
        Throw(Inspect(path, maxPixels), path, acceptTruncated);

    /// <summary>Split <paramref name="items"/> into those whose header looks usable and bad ones with reasons (see <see cref="HeaderProblem"/>).</summary>
    /// <typeparam name="T">The item type.</typeparam>
    public static (List<T> Good, List<BadImage> Bad) Partition<T>(IEnumerable<T> items, Func<T, string> path, long maxPixels = DefaultMaxPixels)
    {
        var good = new List<T>();
        var bad = new List<BadImage>();
        foreach (var item in items)
        {
            var p = path(item);
            if (HeaderProblem(p, maxPixels) is { } reason) bad.Add(new BadImage(p, reason)); else good.Add(item);
        }
        return (good, bad);
    }

    /// <summary>Write a tab-separated report (path, reason) of bad images, through a temporary file; tabs and newlines in names are escaped, so one image is one row of two columns.</summary>
    public static void WriteReport(string path, IReadOnlyList<BadImage> bad, bool overwrite = true) =>
        AtomicFile.WriteAllLines(path, ["path\treason", .. bad.Select(b => $"{InertText.Escape(b.ImagePath)}\t{InertText.Escape(b.Reason)}")], overwrite);

    private static string? Verdict(ImageProblem? problem, bool acceptTruncated) =>
        problem is null || (acceptTruncated && problem.Truncated) ? null : problem.Reason;

    private static bool Throw(ImageProblem? problem, string name, bool acceptTruncated)
    {
        if (problem is null) return false;
        if (acceptTruncated && problem.Truncated) return true;
        throw new BadImageException(name, problem.Reason);
    }

    // The body is decoded at the smallest scale the decoder offers (⅛ for JPEG): every byte is still
    // entropy-decoded, so damage and truncation show, for a fraction of a full decode's memory.
    private static ImageProblem? Decode(OpenedImage image)
    {
        var codec = image.Codec;
        var scaled = codec.GetScaledDimensions(1 / 8f);
        var info = new SKImageInfo(Math.Max(1, scaled.Width), Math.Max(1, scaled.Height), SKColorType.Rgba8888, SKAlphaType.Premul);
        using var pixels = new SKBitmap(info);
        var status = codec.GetPixels(info, pixels.GetPixels());
        try
        {
            return image.Outcome(status, acceptTruncated: true)
                ? new ImageProblem(image.TruncatedReason, true)
                : null;
        }
        catch (BadImageException ex) { return new ImageProblem(ex.Reason, false); }
    }
}
