using System.Diagnostics;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Tests;

/// <summary>The decoding budget: bombs under the pixel limit are refused from their header, before any pixel is allocated.</summary>
public class DecodeBudgetTests
{
    public static TheoryData<string> Bombs => ["gif", "png", "jpg"];

    private static byte[] Bomb(string kind) => kind switch
    {
        "gif" => CraftedBombs.Gif(),
        "png" => CraftedBombs.Png(),
        _ => CraftedBombs.Jpeg(),
    };

    // Mutation: DecodeBudget.Problem returning null after the pixel limit (budget and ratio off) -> the header
    // check passes and no message names the budget -> fails (with the budget rule alone off, the ratio refuses
    // them without naming the budget: fails too).
    [Theory]
    [MemberData(nameof(Bombs))]
    public void Bombs_under_the_pixel_limit_are_refused_from_the_header_naming_size_and_budget_in_a_moment(string kind)
    {
        using var dir = new TempDir();
        var path = dir.File("bomb." + kind);
        var bytes = Bomb(kind);
        File.WriteAllBytes(path, bytes);
        var side = kind == "jpg" ? 13_400 : 13_000;
        Assert.True((long)side * side < ImageCheck.DefaultMaxPixels);   // under the old limit: only the budget stops it
        Assert.InRange(bytes.Length, 1, 25_000);

        var clock = Stopwatch.StartNew();
        Assert.Contains($"declares {side}×{side} pixels", ImageCheck.HeaderProblem(path));
        var refused = Assert.Throws<BadImageException>(() => FastImageDecoder.Decode(path, 224, new float[3 * 224 * 224]));
        Assert.Contains($"more than the decoding budget of {ImageCheck.DefaultMaxDecodedBytes >> 20} MiB", refused.Reason);
        Assert.DoesNotContain('\n', refused.Message);
        var served = Assert.Throws<BadImageException>(() => MLImageDecoder.Decode(bytes, "upload", maxDecodedBytes: PooledPredictorOptions.DefaultMaxDecodedBytes));
        Assert.Contains("more than the decoding budget of 64 MiB", served.Reason);
        Assert.Contains(ImageCheck.Inspect(path)!.Reason, refused.Reason);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"{clock.Elapsed}");
    }

    // Mutation: drop the pixels-per-byte rule from DecodeBudget.Problem -> the 8,000² PNG (256 MB, under the
    // 512 MiB budget) is decoded in full -> fails.
    [Fact]
    public void A_bomb_under_the_budget_is_refused_by_its_pixels_per_encoded_byte()
    {
        var bytes = CraftedBombs.Png(8_000);
        Assert.True(8_000L * 8_000 * 4 < ImageCheck.DefaultMaxDecodedBytes);
        var refused = Assert.Throws<BadImageException>(() => FastImageDecoder.Decode(new MemoryStream(bytes), "flat.png", 224, new float[3 * 224 * 224]));
        Assert.Contains($"declares 8000×8000 pixels in {bytes.Length:N0} bytes, over 1,000 pixels a byte", refused.Reason);
    }

    // Mutation: RatioFloorPixels = 0 (the ratio held against small images too) -> the flat 512² PNG is refused -> fails.
    [Fact]
    public void Real_photo_sizes_pass_and_small_flat_images_are_not_held_to_the_ratio()
    {
        // A 24 MP camera JPEG is 4-15 MB: well under 1,000 pixels a byte; 96 MB decoded fits training's 512 MiB, not serving's 64 MiB.
        Assert.Null(DecodeBudget.Problem(6000, 4000, 4_000_000, ImageCheck.DefaultMaxPixels, ImageCheck.DefaultMaxDecodedBytes));
        Assert.Contains("decoding budget of 64 MiB", DecodeBudget.Problem(6000, 4000, 4_000_000, ImageCheck.DefaultMaxPixels, PooledPredictorOptions.DefaultMaxDecodedBytes));
        Assert.Null(DecodeBudget.Problem(4096, 4096, 4_000_000, ImageCheck.DefaultMaxPixels, PooledPredictorOptions.DefaultMaxDecodedBytes));   // exactly 64 MiB
        Assert.NotNull(DecodeBudget.Problem(4096, 4097, 4_000_000, ImageCheck.DefaultMaxPixels, PooledPredictorOptions.DefaultMaxDecodedBytes));
        Assert.Contains("invalid size", DecodeBudget.Problem(0, 5, 10, ImageCheck.DefaultMaxPixels, ImageCheck.DefaultMaxDecodedBytes));
        Assert.Contains("limit of 180,000,000", DecodeBudget.Problem(int.MaxValue, int.MaxValue, 10, ImageCheck.DefaultMaxPixels, long.MaxValue));

        var flat = CraftedBombs.Png(512);   // 262,144 pixels in a few hundred bytes
        Assert.True(512 * 512 / flat.Length > 1_000);
        var pixels = new float[3 * 224 * 224];
        Assert.False(FastImageDecoder.Decode(new MemoryStream(flat), "flat.png", 224, pixels));
        Assert.All(pixels, p => Assert.Equal(0f, p));
    }

    // Mutation: DecodeBudget.Problem returning null after the pixel limit (no budget, no ratio) -> the bombs
    // are decoded in full, the run takes minutes and no line names a budget -> fails.
    [Fact]
    public void Predict_refuses_each_bomb_with_one_line_naming_it_and_stays_under_1_GB()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var data = dir.File("data");
        foreach (var label in new[] { "discs", "stripes" })
        {
            Directory.CreateDirectory(Path.Combine(data, label));
            foreach (var f in Directory.GetFiles(Path.Combine(SampleData.Folder, label)).Order().Take(4))
                File.Copy(f, Path.Combine(data, label, Path.GetFileName(f)));
        }
        var model = dir.File("model.zip");
        var trained = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", model, "--random-init", "--trainer", "lbfgs", "--quiet");
        Assert.True(trained.Code == 0, trained.Err);
        var bombs = new[] { "gif", "png", "jpg" }.Select(kind =>
        {
            var path = dir.File("bomb." + kind);
            File.WriteAllBytes(path, Bomb(kind));
            return path;
        }).ToArray();

        var all = PeakMemory.Run(home, ["predict", "--model", model, .. bombs]);
        Assert.True(all.Code == 0, all.Err);
        foreach (var bomb in bombs) Assert.Contains($"{Path.GetFileName(bomb)}: declares", all.Err);
        Assert.Equal(3, all.Err.Split('\n').Count(line => line.Contains("decoding budget of 512 MiB", StringComparison.Ordinal)));
        Assert.DoesNotContain("   at ", all.Err);
        Assert.True(all.PeakBytes < 1_000_000_000, $"peak working set {all.PeakBytes:N0} bytes");

        var strict = PeakMemory.Run(home, ["predict", "--model", model, bombs[1], "--on-bad-image", "fail"]);
        Assert.Equal(3, strict.Code);
        Assert.Contains("bomb.png' declares 13000×13000 pixels", strict.Err);
        Assert.True(strict.PeakBytes < 1_000_000_000, $"peak working set {strict.PeakBytes:N0} bytes");
    }
}
