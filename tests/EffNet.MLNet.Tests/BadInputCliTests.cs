using System.Text.Json;

namespace EffNet.MLNet.Tests;

/// <summary>The findings of the bad-input review, replayed through the real <c>effnet</c> command.</summary>
public class BadInputCliTests
{
    /// <summary>Six sample images of each of two labels, copied into <paramref name="folder"/>.</summary>
    private static string Dataset(string folder, int perLabel = 6)
    {
        foreach (var label in new[] { "discs", "stripes" })
        {
            Directory.CreateDirectory(Path.Combine(folder, label));
            foreach (var f in Directory.GetFiles(Path.Combine(SampleData.Folder, label)).Order().Take(perLabel))
                File.Copy(f, Path.Combine(folder, label, Path.GetFileName(f)));
        }
        return folder;
    }

    private static void AssertNoStackTrace(string stderr) => Assert.DoesNotContain("   at ", stderr);

    private static string[] TempFiles(string folder) => Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories);

    [Fact]
    public void Train_skips_what_decoding_finds_creates_the_output_folder_and_replaces_nothing_without_force()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var data = Dataset(dir.File("data"));
        var set = CraftedImages.WriteSet(dir.File("crafted"));
        File.Copy(set.DamagedWebp, Path.Combine(data, "discs", "damaged.webp"));
        File.Copy(set.TruncatedJpeg, Path.Combine(data, "discs", "cut.jpg"));
        File.Copy(set.Html, Path.Combine(data, "stripes", "page.jpg"));
        var outDir = dir.File("new-dir");
        var model = Path.Combine(outDir, "model.zip");
        var badReport = Path.Combine(outDir, "model.bad-images.tsv");
        string[] Train(params string[] extra) => ["train", "--data", data, "--out", model, "--random-init", "--trainer", "lbfgs", "--quiet", .. extra];

        // skip (the default): the damaged WebP and the cut JPEG, found only while decoding, are left out like the HTML page.
        var run = CliTests.EffnetWithHome(home, Train());
        Assert.True(run.Code == 0, run.Err);
        AssertNoStackTrace(run.Err);
        Assert.Matches("damaged.webp: is damaged", run.Err);
        Assert.Matches("cut.jpg: is truncated", run.Err);
        Assert.Matches("page.jpg: is not an image", run.Err);
        Assert.True(File.Exists(model));
        var report = File.ReadAllLines(badReport);
        Assert.Equal(4, report.Length);
        Assert.Contains(report, l => l.Contains("cut.jpg\tis truncated: the JPEG data ends after"));
        Assert.Contains(report, l => l.Contains("damaged.webp\tis damaged: its WEBP data is corrupt"));
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "model.json"))))
        {
            Assert.Equal(12, json.RootElement.GetProperty("data").GetProperty("images").GetInt32());
            Assert.Equal(3, json.RootElement.GetProperty("data").GetProperty("skippedImages").GetInt32());
        }
        Assert.Empty(TempFiles(dir.Path));

        // Nothing is replaced without --force: not the model, and not the picture or the report alone either.
        var modelBytes = File.ReadAllBytes(model);
        var again = CliTests.EffnetWithHome(home, Train());
        Assert.Equal(2, again.Code);
        Assert.Contains("--force", again.Err);
        Assert.Equal(modelBytes, File.ReadAllBytes(model));
        var other = Path.Combine(outDir, "other.zip");
        File.WriteAllText(Path.Combine(outDir, "other.confusion.png"), "mine");
        var picture = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", other, "--random-init", "--quiet");
        Assert.Equal(2, picture.Code);
        Assert.Contains("other.confusion.png", picture.Err);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(outDir, "other.confusion.png")));

        // --accept-truncated: the cut JPEG is used, with a warning naming it. Every output is replaced by a
        // new file (renamed over it), not written into: a hard link to each old file still holds the old bytes.
        var outputs = new[] { "model.zip", "model.json", "model.confusion.png", "model.bad-images.tsv" }.Select(f => Path.Combine(outDir, f)).ToList();
        var before = outputs.Select(File.ReadAllBytes).ToList();
        foreach (var f in outputs) Assert.Equal(0, ProcessRunner.Run("ln", [f, f + ".old"]).Code);
        var lenient = CliTests.EffnetWithHome(home, Train("--accept-truncated", "--force"));
        Assert.True(lenient.Code == 0, lenient.Err);
        for (var i = 0; i < outputs.Count; i++) Assert.Equal(before[i], File.ReadAllBytes(outputs[i] + ".old"));
        Assert.NotEqual(before[3], File.ReadAllBytes(outputs[3]));
        Assert.Matches("warning:.*cut.jpg is truncated", lenient.Err.ReplaceLineEndings(" "));
        Assert.Equal(3, File.ReadAllLines(badReport).Length);
        Assert.DoesNotContain(File.ReadAllLines(badReport), l => l.Contains("cut.jpg"));

        // fail: with headers all fine, the first image found bad while decoding stops the run, exit 3, nothing written.
        File.Delete(Path.Combine(data, "stripes", "page.jpg"));
        var strictModel = Path.Combine(outDir, "strict.zip");
        var strict = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", strictModel, "--random-init", "--quiet", "--on-bad-image", "fail");
        Assert.Equal(3, strict.Code);
        AssertNoStackTrace(strict.Err);
        Assert.Contains("cut.jpg' is truncated", strict.Err);
        Assert.False(File.Exists(strictModel));
        Assert.False(File.Exists(Path.Combine(outDir, "strict.json")));
        Assert.Empty(TempFiles(dir.Path));

        // A clean run over the old outputs (--force) removes the stale bad-image report.
        File.Delete(Path.Combine(data, "discs", "damaged.webp"));
        File.Delete(Path.Combine(data, "discs", "cut.jpg"));
        var clean = CliTests.EffnetWithHome(home, Train("--force"));
        Assert.True(clean.Code == 0, clean.Err);
        Assert.False(File.Exists(badReport));
    }

    [Fact]
    public void Evaluate_and_predict_on_a_folder_name_each_bad_image_and_go_on_with_the_others()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var model = dir.File("model.zip");
        var trained = CliTests.EffnetWithHome(home, "train", "--data", Dataset(dir.File("data")), "--out", model, "--random-init", "--trainer", "lbfgs", "--quiet");
        Assert.True(trained.Code == 0, trained.Err);

        var eval = Dataset(dir.File("eval"), perLabel: 2);
        var set = CraftedImages.WriteSet(dir.File("crafted"));
        File.Copy(set.Html, Path.Combine(eval, "discs", "page.jpg"));
        File.Copy(set.DamagedWebp, Path.Combine(eval, "stripes", "damaged.webp"));
        File.Copy(set.TruncatedJpeg, Path.Combine(eval, "stripes", "cut.jpg"));

        var evaluated = CliTests.EffnetWithHome(home, "evaluate", "--model", model, "--data", eval, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        AssertNoStackTrace(evaluated.Err);
        Assert.Matches("page.jpg: is not an image", evaluated.Err);
        Assert.Matches("damaged.webp: is damaged", evaluated.Err);
        Assert.Matches("cut.jpg: is truncated", evaluated.Err);
        Assert.Equal(4, JsonDocument.Parse(evaluated.Out).RootElement.GetProperty("rows").GetInt32());
        var strictEval = CliTests.EffnetWithHome(home, "evaluate", "--model", model, "--data", eval, "--on-bad-image", "fail");
        Assert.Equal(3, strictEval.Code);
        AssertNoStackTrace(strictEval.Err);
        Assert.Contains("page.jpg' is not an image", strictEval.Err);

        var predicted = CliTests.EffnetWithHome(home, "predict", "--model", model, eval, "--json");
        Assert.True(predicted.Code == 0, predicted.Err);
        AssertNoStackTrace(predicted.Err);
        var results = JsonDocument.Parse(predicted.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(7, results.Count);
        string Name(JsonElement r) => Path.GetFileName(r.GetProperty("image").GetString()!);
        var failed = results.Where(r => r.GetProperty("error").ValueKind == JsonValueKind.String).ToList();
        Assert.Equal(["page.jpg", "cut.jpg", "damaged.webp"], failed.Select(Name));
        Assert.All(results.Except(failed), r => Assert.NotEqual("", r.GetProperty("label").GetString()));
        Assert.Matches("damaged.webp: is damaged", predicted.Err);
        var strictPredict = CliTests.EffnetWithHome(home, "predict", "--model", model, eval, "--on-bad-image", "fail");
        Assert.Equal(3, strictPredict.Code);
        AssertNoStackTrace(strictPredict.Err);
    }

    [Fact]
    public void Featurize_writes_through_a_temporary_file_refuses_to_overwrite_and_removes_a_stale_report()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var data = Dataset(dir.File("data"), perLabel: 3);
        var set = CraftedImages.WriteSet(dir.File("crafted"));
        File.Copy(set.DamagedWebp, Path.Combine(data, "discs", "damaged.webp"));
        var output = Path.Combine(dir.Path, "out", "features.csv");
        string[] Featurize(params string[] extra) => ["featurize", "--data", data, "--out", output, "--random-init", .. extra];

        var first = CliTests.EffnetWithHome(home, Featurize());
        Assert.True(first.Code == 0, first.Err);
        Assert.Matches("damaged.webp: is damaged", first.Err);
        Assert.Equal(7, File.ReadAllLines(output).Length); // header + 6 good images
        var report = Path.Combine(dir.Path, "out", "features.bad-images.tsv");
        Assert.Equal(2, File.ReadAllLines(report).Length);

        File.Delete(output);
        var refused = CliTests.EffnetWithHome(home, Featurize()); // the report alone is enough to refuse
        Assert.Equal(2, refused.Code);
        Assert.Contains("features.bad-images.tsv", refused.Err);

        File.Delete(Path.Combine(data, "discs", "damaged.webp"));
        var clean = CliTests.EffnetWithHome(home, Featurize("--force"));
        Assert.True(clean.Code == 0, clean.Err);
        Assert.False(File.Exists(report));
        Assert.Empty(TempFiles(dir.Path));
    }
}
