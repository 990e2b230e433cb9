using SkiaSharp;

namespace EffNet.MLNet.Imaging;

/// <summary>An image that cannot be used, and why.</summary>
/// <param name="ImagePath">The file.</param>
/// <param name="Reason">What is wrong with it.</param>
public sealed record BadImage(string ImagePath, string Reason);

/// <summary>
/// Checks, from the header alone, that a file is an image the decoder can read and that its
/// declared size is sane — before a batch of thousands fails deep inside ML.NET on one file.
/// </summary>
public static class ImageCheck
{
    /// <summary>Default limit on declared pixels (width × height): about 180 megapixels.</summary>
    public const long DefaultMaxPixels = 180_000_000;

    /// <summary>Null when the image looks usable, else the reason it is not.</summary>
    public static string? Problem(string path, long maxPixels = DefaultMaxPixels)
    {
        if (Directory.Exists(path)) return "is a directory, not an image file";
        if (!File.Exists(path)) return "does not exist";
        try
        {
            var length = new FileInfo(path).Length;
            if (length == 0) return "is empty (0 bytes)";
            using var stream = File.OpenRead(path);
            using var codec = SKCodec.Create(stream, out var result);
            if (codec is null) return $"is not an image the decoder can read ({Describe(result)})";
            var info = codec.Info;
            if (info.Width <= 0 || info.Height <= 0) return $"declares an invalid size {info.Width}×{info.Height}";
            if ((long)info.Width * info.Height > maxPixels)
                return $"declares {info.Width}×{info.Height} pixels, more than the limit of {maxPixels:N0} (a decompression bomb?)";
            return null;
        }
        catch (UnauthorizedAccessException) { return "cannot be read (permission denied)"; }
        catch (IOException ex) { return $"cannot be read ({ex.Message})"; }
    }

    /// <summary>Split <paramref name="items"/> into usable ones and bad ones with reasons.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    public static (List<T> Good, List<BadImage> Bad) Partition<T>(IEnumerable<T> items, Func<T, string> path, long maxPixels = DefaultMaxPixels)
    {
        var good = new List<T>();
        var bad = new List<BadImage>();
        foreach (var item in items)
        {
            var p = path(item);
            if (Problem(p, maxPixels) is { } reason) bad.Add(new BadImage(p, reason)); else good.Add(item);
        }
        return (good, bad);
    }

    /// <summary>Write a tab-separated report (path, reason) of bad images.</summary>
    public static void WriteReport(string path, IReadOnlyList<BadImage> bad) =>
        File.WriteAllLines(path, ["path\treason", .. bad.Select(b => $"{b.ImagePath}\t{b.Reason}")]);

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the file ends early",
        SKCodecResult.Unimplemented => "unsupported format",
        SKCodecResult.InvalidInput => "corrupt data",
        _ => result.ToString(),
    };
}
