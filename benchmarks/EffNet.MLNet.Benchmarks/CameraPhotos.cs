using System.Globalization;
using System.Security.Cryptography;
using SkiaSharp;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// The camera set: real photographs from a folder (benchmarks/camera-photos.sh fills one from
/// Debian's wallpaper packages). Generated images flatter a decoder: a real photograph carries far
/// more entropy-coded data for the same size. Copies of one photo are counted once as distinct.
/// </summary>
internal sealed record CameraPhotos(IReadOnlyList<string> Paths, int Distinct, double MinMegapixels, double MaxMegapixels)
{
    public string Label => string.Create(CultureInfo.InvariantCulture,
        $"{Paths.Count} × real camera JPEG ({MinMegapixels:F0}–{MaxMegapixels:F0} MP, {Distinct} distinct photos)");

    /// <summary>The first <paramref name="count"/> JPEGs of <paramref name="dir"/> in name order (all when null), or an ArgumentException saying what is wrong with the folder.</summary>
    public static CameraPhotos Load(string? dir, int? count)
    {
        if (dir is null)
            throw new ArgumentException("the camera set is real photographs: run `bash benchmarks/camera-photos.sh` and pass the folder it prints as --camera-dir, or leave camera out of --sets.");
        if (!Directory.Exists(dir)) throw new ArgumentException($"--camera-dir {dir}: no such folder.");
        var all = Directory.EnumerateFiles(dir)
            .Where(p => Path.GetExtension(p).ToLowerInvariant() is ".jpg" or ".jpeg")
            .Order(StringComparer.Ordinal)
            .ToList();
        if (count > all.Count) throw new ArgumentException($"--camera-dir {dir}: --camera-images {count} asked for, but it holds only {all.Count} JPEGs.");
        var paths = all.Take(count ?? all.Count).ToList();
        if (paths.Count == 0) throw new ArgumentException($"--camera-dir {dir}: no .jpg or .jpeg files in it.");
        var megapixels = paths.Select(p => Megapixels(p)).ToList();
        var distinct = paths.Select(p => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))).Distinct().Count();
        return new CameraPhotos(paths, distinct, megapixels.Min(), megapixels.Max());
    }

    private static double Megapixels(string path)
    {
        using var codec = SKCodec.Create(path) ?? throw new ArgumentException($"{path}: not a JPEG that Skia can read.");
        return codec.Info.Width * (double)codec.Info.Height / 1e6;
    }
}
