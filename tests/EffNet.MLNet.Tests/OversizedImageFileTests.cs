using System.Diagnostics;
using EffNet.MLNet.Imaging;
using SkiaSharp;

namespace EffNet.MLNet.Tests;

/// <summary>
/// A multi-gigabyte file named .jpg whose first bytes are a real JPEG: refused from its length before
/// anything is read into memory. The file is sparse (a valid header, then a hole), so it costs no disk.
/// </summary>
public class OversizedImageFileTests
{
    private const long Huge = 3L << 30;

    private static string SparseJpeg(string path)
    {
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.Write(CraftedImages.Encoded(SKEncodedImageFormat.Jpeg));
            stream.SetLength(Huge);   // ftruncate: a hole, no blocks written
        }
        return path;
    }

    // The console wraps long lines at its width; the words are what matter.
    private static string Flat(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    private static string Expected(string path) => $"'{path}' is {Huge:N0} bytes, more than the 256 MiB an encoded image may be; it was not read.";

    // Mutation: CheckBeforeReading without its length test -> the header (a 400×300 JPEG) passes and ReadFile
    // asks for a 3 GiB array (OverflowException; main's MemoryStream read 2 GiB first) -> fails.
    [Fact]
    public void A_3_GB_sparse_jpg_is_refused_from_its_length_before_it_is_read()
    {
        using var dir = new TempDir();
        var path = SparseJpeg(dir.File("huge.jpg"));
        var clock = Stopwatch.StartNew();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);

        Assert.Equal(Expected(path), Assert.Throws<BadImageException>(() => OpenedImage.ReadFile(path)).Message);
        Assert.Contains("more than the 256 MiB", ImageCheck.HeaderProblem(path));
        Assert.Contains("more than the 256 MiB", Assert.Throws<BadImageException>(() => FastImageDecoder.Decode(path, 224, new float[3 * 224 * 224])).Reason);
        Assert.Contains("more than the 256 MiB", Assert.Throws<BadImageException>(() => MLImageDecoder.DecodeFile(path)).Reason);

        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - allocated < 16 << 20, "the file was read into managed memory");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{clock.Elapsed}");
    }

    // Mutation: as above (no length test) -> featurize tries to read the 3 GB file whole and ends in an
    // OverflowException's stack trace; no line names the 256 MiB -> fails.
    [Fact]
    public void Featurize_skips_it_like_other_bad_images_naming_it_and_stays_under_1_GB()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var data = dir.File("data");
        foreach (var label in new[] { "discs", "stripes" })
        {
            Directory.CreateDirectory(Path.Combine(data, label));
            foreach (var f in Directory.GetFiles(Path.Combine(SampleData.Folder, label)).Order().Take(2))
                File.Copy(f, Path.Combine(data, label, Path.GetFileName(f)));
        }
        var huge = SparseJpeg(Path.Combine(data, "discs", "huge.jpg"));
        var features = dir.File("features.csv");

        var run = PeakMemory.Run(home, ["featurize", "--data", data, "--out", features, "--random-init"]);
        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("huge.jpg: is 3,221,225,472 bytes, more than the 256 MiB an encoded image may be", Flat(run.Err));
        Assert.DoesNotContain("   at ", run.Err);
        Assert.Equal(5, File.ReadAllLines(features).Length);   // header + the 4 good images
        Assert.True(run.PeakBytes < 1_000_000_000, $"peak working set {run.PeakBytes:N0} bytes");

        var strict = PeakMemory.Run(home, ["featurize", "--data", data, "--out", dir.File("strict.csv"), "--random-init", "--on-bad-image", "fail"]);
        Assert.Equal(3, strict.Code);
        Assert.Contains(huge, strict.Err);
        Assert.Contains("more than the 256 MiB an encoded image may be", Flat(strict.Err));
    }
}
