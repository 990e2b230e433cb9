using EffNet.MLNet.Imaging;
using SkiaSharp;

namespace EffNet.MLNet.Tests;

public class BadImageTests
{
    [Fact]
    public void Broken_files_are_told_apart_from_good_ones_with_the_reason()
    {
        using var dir = new TempDir();
        var good = Path.Combine(SampleData.Folder, "discs", "discs-01.png");
        File.WriteAllBytes(dir.File("empty.jpg"), []);
        File.WriteAllText(dir.File("page.jpg"), "<html>404 not found</html>");
        var jpeg = File.ReadAllBytes(Path.Combine(SampleData.Folder, "discs", "discs-02.jpg"));
        File.WriteAllBytes(dir.File("header-only.jpg"), jpeg[..20]);
        Directory.CreateDirectory(dir.File("folder.jpg"));
        File.WriteAllBytes(dir.File("bomb.png"), PngDeclaring(100_000, 100_000));

        Assert.Null(ImageCheck.Problem(good));
        Assert.Contains("empty", ImageCheck.Problem(dir.File("empty.jpg")));
        Assert.Contains("not an image", ImageCheck.Problem(dir.File("page.jpg")));
        Assert.NotNull(ImageCheck.Problem(dir.File("header-only.jpg")));
        Assert.NotNull(ImageCheck.HeaderProblem(dir.File("header-only.jpg")));
        Assert.Contains("not an image", ImageCheck.HeaderProblem(dir.File("page.jpg")));
        Assert.Contains("directory", ImageCheck.Problem(dir.File("folder.jpg")));
        Assert.Contains("does not exist", ImageCheck.Problem(dir.File("absent.jpg")));
        Assert.Contains("decompression bomb", ImageCheck.Problem(dir.File("bomb.png")));
    }

    [Theory]
    [InlineData("stripes/stripes-02.jpg")]
    [InlineData("discs/discs-01.png")]
    public void Truncated_images_are_bad_unless_accepted_and_then_keep_the_known_part(string sample)
    {
        // Decoders show the rows that arrived (as browsers do); PIL and TensorFlow refuse such files unless told.
        using var dir = new TempDir();
        var source = Path.Combine(SampleData.Folder, sample);
        var bytes = File.ReadAllBytes(source);
        var cut = dir.File("cut" + Path.GetExtension(sample));
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        Assert.Null(ImageCheck.HeaderProblem(cut));
        Assert.StartsWith("is truncated", ImageCheck.Problem(cut));
        Assert.True(ImageCheck.Inspect(cut)!.Truncated);
        Assert.Null(ImageCheck.Problem(cut, acceptTruncated: true));
        var whole = new float[3 * 64 * 64];
        var half = new float[3 * 64 * 64];
        var ex = Assert.Throws<BadImageException>(() => FastImageDecoder.Decode(cut, 64, half));
        Assert.Equal(cut, ex.InputName);
        Assert.Contains("truncated", ex.Message);
        Assert.False(FastImageDecoder.Decode(source, 64, whole));
        Assert.True(FastImageDecoder.Decode(cut, 64, half, acceptTruncated: true));
        var topRows = Enumerable.Range(0, 3).SelectMany(c => Enumerable.Range(c * 4096, 64 * 8)).ToList();
        Assert.True(topRows.Average(i => Math.Abs(whole[i] - half[i])) < 8, "the first rows of a cut image should decode as in the whole one");
    }

    [Theory]
    [InlineData("scrambled.webp")]
    [InlineData("blanked.webp")] // the decoder says "incomplete input": only the RIFF size tells it from a cut file
    [InlineData("scrambled.png")]
    public void A_damaged_body_behind_a_valid_header_is_found_by_decoding_and_never_called_truncated(string name)
    {
        using var dir = new TempDir();
        var path = dir.File(name);
        File.WriteAllBytes(path, name switch
        {
            "scrambled.webp" => CraftedImages.DamagedWebp(),
            "blanked.webp" => CraftedImages.BlankedSecondHalf(CraftedImages.Encoded(SKEncodedImageFormat.Webp)),
            _ => CraftedImages.DamagedBody(CraftedImages.Encoded(SKEncodedImageFormat.Png)),
        });
        Assert.Null(ImageCheck.HeaderProblem(path)); // the header alone cannot tell
        var problem = ImageCheck.Inspect(path);
        Assert.NotNull(problem);
        Assert.False(problem.Truncated);
        Assert.StartsWith("is damaged", problem.Reason);
        Assert.NotNull(ImageCheck.Problem(path, acceptTruncated: true)); // accepting truncation does not accept damage
        var ex = Assert.Throws<BadImageException>(() => FastImageDecoder.Decode(path, 64, new float[3 * 64 * 64], acceptTruncated: true));
        Assert.Equal(path, ex.InputName);
    }

    [Fact]
    public void Stream_checks_name_the_input_and_leave_the_stream_where_it_was()
    {
        var jpeg = CraftedImages.Encoded(SKEncodedImageFormat.Jpeg);
        using var good = new MemoryStream(jpeg);
        Assert.Null(ImageCheck.Problem(good));
        Assert.False(ImageCheck.ThrowIfBad(good, "upload.jpg"));
        Assert.Equal(0, good.Position);
        var pixels = new float[3 * 64 * 64];
        Assert.False(FastImageDecoder.Decode(good, "upload.jpg", 64, pixels));

        using var cut = new MemoryStream(CraftedImages.CutToThird(jpeg));
        var ex = Assert.Throws<BadImageException>(() => ImageCheck.ThrowIfBad(cut, "upload.jpg"));
        Assert.Equal("upload.jpg", ex.InputName);
        Assert.StartsWith("is truncated", ex.Reason);
        Assert.True(ImageCheck.ThrowIfBad(cut, "upload.jpg", acceptTruncated: true));

        using var html = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(CraftedImages.Html));
        Assert.Contains("not an image", ImageCheck.Problem(html));
        using var empty = new MemoryStream();
        Assert.Contains("empty", Assert.Throws<BadImageException>(() => FastImageDecoder.Decode(empty, "blank.png", 64, pixels)).Reason);
    }

    /// <summary>A valid PNG header (with correct CRCs) declaring a huge RGB image, and almost no data.</summary>
    internal static byte[] PngDeclaring(int width, int height)
    {
        var png = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };
        void Chunk(string type, byte[] data)
        {
            png.AddRange(BigEndian(data.Length));
            var body = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            png.AddRange(body);
            png.AddRange(BigEndian((int)Crc32(body)));
        }
        Chunk("IHDR", [.. BigEndian(width), .. BigEndian(height), 8, 2, 0, 0, 0]);
        Chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk("IEND", []);
        return [.. png];
    }

    private static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Training_skips_and_reports_unreadable_images()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        foreach (var label in new[] { "discs", "stripes" })
        {
            Directory.CreateDirectory(Path.Combine(data, label));
            foreach (var f in Directory.GetFiles(Path.Combine(SampleData.Folder, label)).Order().Take(10))
                File.Copy(f, Path.Combine(data, label, Path.GetFileName(f)));
        }
        File.WriteAllText(Path.Combine(data, "discs", "not-an-image.jpg"), "text");
        File.WriteAllBytes(Path.Combine(data, "stripes", "empty.png"), []);
        var model = dir.File("model.zip");

        var (code, stdout, stderr) = CliTests.EffnetWithHome(dir.File("home"), "train", "--data", data, "--out", model, "--random-init", "--trainer", "lbfgs", "--quiet");
        Assert.True(code == 0, stderr);
        Assert.Contains("not-an-image.jpg", stderr);
        Assert.Contains("2 unusable image(s) left out", stderr);
        var report = File.ReadAllLines(dir.File("model.bad-images.tsv"));
        Assert.Equal(3, report.Length);
        Assert.Contains(report, l => l.Contains("empty.png") && l.Contains("empty"));
        Assert.Contains("20 images featurized", stdout);

        // With --on-bad-image fail the first bad file stops the run, named, and nothing is written.
        var strict = CliTests.EffnetWithHome(dir.File("home"), "train", "--data", data, "--out", dir.File("strict.zip"), "--random-init", "--on-bad-image", "fail", "--quiet");
        Assert.Equal(3, strict.Code);
        Assert.Contains("not-an-image.jpg", strict.Err);
        Assert.False(File.Exists(dir.File("strict.zip")));
        var strictRetrain = CliTests.EffnetWithHome(dir.File("home"), "retrain", "--model", model, "--data", data, "--on-bad-image", "fail", "--quiet");
        Assert.Equal(3, strictRetrain.Code);
        Assert.Contains("not-an-image.jpg", strictRetrain.Err);
        Assert.False(File.Exists(dir.File("model.retrained.zip")));

        // The same data without the bad files gives the same model.
        File.Delete(Path.Combine(data, "discs", "not-an-image.jpg"));
        File.Delete(Path.Combine(data, "stripes", "empty.png"));
        var clean = dir.File("clean.zip");
        var again = CliTests.EffnetWithHome(dir.File("home"), "train", "--data", data, "--out", clean, "--random-init", "--trainer", "lbfgs", "--quiet");
        Assert.True(again.Code == 0, again.Err);
        var probe = Path.Combine(SampleData.Folder, "discs", "discs-20.jpg");
        var withBad = CliTests.Effnet("predict", "--model", model, probe, "--json");
        var withoutBad = CliTests.Effnet("predict", "--model", clean, probe, "--json");
        Assert.Equal(withoutBad.Out, withBad.Out);
        Assert.False(File.Exists(dir.File("clean.bad-images.tsv")));
    }
}
