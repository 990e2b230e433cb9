using System.Text.Json;
using EffNet.MLNet.Sweep;

namespace EffNet.MLNet.Tests.Sweep;

/// <summary><c>effnet sweep</c> as users run it, over the fixture's warm feature cache.</summary>
[Collection(SweptSampleDataCollection.Name)]
public class SweepCliTests(SweptSampleData swept)
{
    private static string Flat(string s) => string.Join(' ', s.Split((char[])['\n', '\r', ' ', '│'], StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void Sweep_writes_json_and_chart_prints_the_table_and_says_what_random_weights_mean()
    {
        using var dir = new TempDir();
        var output = dir.File("out/sweep.json");
        string[] args = ["sweep", "--data", SampleData.Folder, "--variants", "b0", "--phi", "0.5", "--random-init", "--resolution", "64", "--folds", "3", "--out", output];
        var (code, stdout, stderr) = CliTests.EffnetWithHome(swept.Home.Path, args);
        Assert.True(code == 0, stderr);
        var flat = Flat(stdout);
        Assert.Contains("say nothing about how the pretrained variants compare", flat);
        Assert.Contains("Recommended:", flat);
        Assert.Contains("90/90", flat);   // every image from the cache the fixture filled
        var result = SweepResult.Load(output);
        Assert.Equal(["b0", "phi=0.5"], result.Variants.Select(v => v.Variant));
        Assert.All(result.Variants, v => Assert.Equal(90, v.CacheHits));
        Assert.True(File.Exists(dir.File("out/sweep.png")));
        using (var png = SkiaSharp.SKBitmap.Decode(dir.File("out/sweep.png")))
            Assert.Equal((SweepChart.Width, SweepChart.Height), (png.Width, png.Height));

        // Nothing is overwritten without --force, checked before any work.
        var again = CliTests.EffnetWithHome(swept.Home.Path, args);
        Assert.Equal(2, again.Code);
        Assert.Contains("already exists; pass --force", Flat(again.Err));

        var json = CliTests.EffnetWithHome(swept.Home.Path, ["sweep", "--data", SampleData.Folder, "--variants", "b0", "--random-init", "--resolution", "64",
            "--folds", "3", "--out", output, "--force", "--json"]);
        Assert.True(json.Code == 0, json.Err);
        var root = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal("b0", Assert.Single(root.GetProperty("variants").EnumerateArray()).GetProperty("variant").GetString());
    }

    [Fact]
    public void Unusable_images_are_left_out_named_in_sweep_json_and_the_report()
    {
        using var dir = new TempDir();
        var data = dir.File("data");
        foreach (var file in Directory.GetFiles(SampleData.Folder, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".jpg") || f.EndsWith(".png")))
        {
            var target = Path.Combine(data, Path.GetRelativePath(SampleData.Folder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.WriteAllText(Path.Combine(data, "discs", "page.jpg"), "<html>not an image</html>");
        var output = dir.File("sweep.json");
        var (code, _, stderr) = CliTests.EffnetWithHome(swept.Home.Path, "sweep", "--data", data, "--variants", "b0", "--random-init", "--resolution", "64",
            "--folds", "3", "--out", output, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("page.jpg", stderr);
        var result = SweepResult.Load(output);
        Assert.Equal(90, result.Images);
        Assert.EndsWith("page.jpg", Assert.Single(result.BadImages).ImagePath);
        Assert.Equal(90, Assert.Single(result.Variants).CacheHits);   // the copies have the cached images' content
        Assert.Contains("page.jpg", File.ReadAllText(dir.File("sweep.bad-images.tsv")));
    }

    [Fact]
    public void A_variant_over_the_budget_is_skipped_before_its_pretrained_weights_are_downloaded()
    {
        using var home = new TempDir();
        using var dir = new TempDir();
        // 90 images of B0 at the prior 25 core-ms per billion multiply-adds: about 0.4 s, over a 0.1 s budget.
        var environment = new Dictionary<string, string> { ["EFFNET_HOME"] = home.Path, ["EFFNET_MIRROR"] = "https://127.0.0.1:9/", ["COLUMNS"] = "200" };
        var (code, _, stderr) = ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "effnet.dll"), "sweep", "--data", SampleData.Folder,
            "--variants", "b0", "--time-budget", "0.1", "--out", dir.File("sweep.json"), "--json"], environment);
        Assert.True(code == 0, stderr);
        var skipped = Assert.Single(SweepResult.Load(dir.File("sweep.json")).Variants);
        Assert.StartsWith("estimated ", skipped.Skipped);
        Assert.Contains("before any variant was measured", skipped.Skipped);
        Assert.Empty(Directory.GetFiles(home.Path, "*.pth*", SearchOption.AllDirectories));   // nothing downloaded, nothing attempted
    }

    [Theory]
    [InlineData("--variant b0", "Unknown option 'variant'. Did you mean --variants?")]
    [InlineData("--fold 3", "Did you mean --folds?")]
    [InlineData("--precision fp16", "--precision must be fp32 or int8, not 'fp16'.")]
    [InlineData("--variants b0,b9", "--variants: 'b9' is not a variant")]
    [InlineData("--phi 0,x", "--phi: 'x' is not a compound coefficient")]
    [InlineData("--folds 1", "--folds must lie in [2, 50], not 1.")]
    [InlineData("--random-init --weights-dir x", "Give at most one of --weights-dir DIR and --random-init.")]
    [InlineData("--time-budget 0", "--time-budget must be positive")]
    public void Bad_options_exit_2_with_a_clear_message(string options, string expected)
    {
        var (code, stdout, stderr) = CliTests.Effnet(["sweep", "--data", SampleData.Folder, .. options.Split(' ')]);
        Assert.Equal(2, code);
        Assert.Contains(expected, Flat(stderr));
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal("", stdout.Trim());
    }
}
