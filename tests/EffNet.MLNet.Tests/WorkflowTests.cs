using Microsoft.ML;
using System.Text.Json;

namespace EffNet.MLNet.Tests;

/// <summary>Model Builder's workflow through the CLI: train (auto) → model.json → evaluate → predict → retrain.</summary>
public class WorkflowTests
{
    [Fact]
    public void Train_evaluate_predict_and_retrain_featurizing_only_new_images()
    {
        using var dir = new TempDir();
        var home = Path.Combine(dir.Path, "home");
        var data = Path.Combine(dir.Path, "data");
        var later = new List<(string From, string To)>();
        foreach (var label in new[] { "checkers", "discs", "stripes" })
        {
            Directory.CreateDirectory(Path.Combine(data, label));
            var files = Directory.GetFiles(Path.Combine(SampleData.Folder, label)).Order().ToList();
            for (var i = 0; i < files.Count; i++)
            {
                var to = Path.Combine(data, label, Path.GetFileName(files[i]));
                if (i < 20) File.Copy(files[i], to); else later.Add((files[i], to));
            }
        }
        var model = Path.Combine(dir.Path, "model.zip");

        var train = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", model, "--random-init", "--json");
        Assert.True(train.Code == 0, train.Err);
        var printed = JsonDocument.Parse(train.Out).RootElement;
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "model.json"))).RootElement;
        Assert.Equal(printed.GetRawText(), report.GetRawText());
        foreach (var key in new[] { "labels", "backbone", "trainer", "settings", "data", "metrics", "savedModelOnValidation", "leaderboard" })
            Assert.True(report.TryGetProperty(key, out _), $"model.json lacks '{key}'");
        Assert.Equal(["checkers", "discs", "stripes"], report.GetProperty("labels").EnumerateArray().Select(e => e.GetString()));
        var backbone = report.GetProperty("backbone");
        Assert.Equal("b0", backbone.GetProperty("variant").GetString());
        Assert.Equal("random-seed-0", backbone.GetProperty("weightsSha256").GetString());
        Assert.Equal(224, backbone.GetProperty("cropSize").GetInt32());
        Assert.Equal("avg", backbone.GetProperty("pooling").GetString());
        var metrics = report.GetProperty("metrics");
        foreach (var key in new[] { "microAccuracy", "macroAccuracy", "logLoss", "perClass", "confusionMatrix" })
            Assert.True(metrics.TryGetProperty(key, out _), $"metrics lack '{key}'");
        Assert.All(metrics.GetProperty("perClass").EnumerateArray(), c =>
        {
            foreach (var key in new[] { "precision", "recall", "f1" }) Assert.True(c.TryGetProperty(key, out _));
        });
        Assert.Equal(4, report.GetProperty("leaderboard").GetArrayLength());
        Assert.Equal(60, report.GetProperty("data").GetProperty("featurizedImages").GetInt32());
        Assert.True(File.Exists(Path.Combine(dir.Path, "model.confusion.png")));
        Assert.Equal(0x89, File.ReadAllBytes(Path.Combine(dir.Path, "model.confusion.png"))[0]);

        // evaluate on the validation images reproduces what training reported for the saved model.
        var manifest = Path.Combine(dir.Path, "validation.csv");
        File.WriteAllLines(manifest, ["path,label", .. report.GetProperty("data").GetProperty("validationImagePaths").EnumerateArray()
            .Select(p => $"{p.GetString()},{Path.GetFileName(Path.GetDirectoryName(p.GetString()))}")]);
        var evaluate = CliTests.EffnetWithHome(home, "evaluate", "--model", model, "--data", manifest, "--json");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        var evaluated = JsonDocument.Parse(evaluate.Out).RootElement;
        var expected = report.GetProperty("savedModelOnValidation");
        foreach (var key in new[] { "microAccuracy", "macroAccuracy", "logLoss" })
            Assert.Equal(expected.GetProperty(key).GetDouble(), evaluated.GetProperty(key).GetDouble(), 6);
        int[][] Matrix(JsonElement m) => m.GetProperty("confusionMatrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        Assert.Equal(Matrix(expected), Matrix(evaluated));

        var predict = CliTests.EffnetWithHome(home, "predict", "--model", model, Path.Combine(data, "discs"), "--top", "2", "--json");
        Assert.True(predict.Code == 0, predict.Err);
        var predictions = JsonDocument.Parse(predict.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(20, predictions.Count);
        Assert.All(predictions, p => Assert.Equal(2, p.GetProperty("scores").GetArrayLength()));

        // Ten more images per class: only those are featurized, and the old model stays as it was.
        foreach (var (from, to) in later) File.Copy(from, to);
        var before = File.ReadAllBytes(model);
        var retrain = CliTests.EffnetWithHome(home, "retrain", "--model", model, "--data", data, "--quiet");
        Assert.True(retrain.Code == 0, retrain.Err);
        Assert.Contains("30 images featurized, 60 from the cache", retrain.Out);
        Assert.Equal(before, File.ReadAllBytes(model));
        var retrained = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "model.retrained.json"))).RootElement;
        Assert.Equal(90, retrained.GetProperty("data").GetProperty("images").GetInt32());
        Assert.Equal(backbone.GetProperty("identity").GetString(), retrained.GetProperty("backbone").GetProperty("identity").GetString());

        // Running it again refuses to overwrite the retrained model.
        var again = CliTests.EffnetWithHome(home, "retrain", "--model", model, "--data", data, "--quiet");
        Assert.Equal(2, again.Code);
        Assert.Contains("--force", again.Err);
    }

    [Theory]
    [InlineData("describe", "--json")]
    [InlineData("export", "--pooling")]
    [InlineData("train", "--validation-fraction")]
    [InlineData("evaluate", "--data")]
    [InlineData("retrain", "--out")]
    [InlineData("predict", "--top")]
    public void Every_command_documents_its_options_and_defaults(string command, string option)
    {
        var (code, stdout, _) = CliTests.Effnet(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains(option, stdout);
        if (command != "describe" && command != "evaluate") Assert.Contains("DEFAULT", stdout);
    }

    [Fact]
    public void Top_level_help_lists_the_exit_codes()
    {
        var (code, stdout, _) = CliTests.Effnet("--help");
        Assert.Equal(0, code);
        Assert.Contains("2 bad arguments", stdout.ReplaceLineEndings(" "));
        Assert.Contains("4 missing weights", stdout.ReplaceLineEndings(" "));
        Assert.Contains("130 interrupted", stdout.ReplaceLineEndings(" "));
    }
}

public class FeaturizeCommandTests
{
    [Fact]
    public void Featurize_writes_an_idv_ml_net_loads_and_reuses_the_cache()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var output = dir.File("features.idv");
        var first = CliTests.EffnetWithHome(home, "featurize", "--data", SampleData.Folder, "--out", output, "--random-init");
        Assert.True(first.Code == 0, first.Err);
        Assert.Contains("90 featurized, 0 from the cache", Flat(first.Out));

        var ml = new Microsoft.ML.MLContext(0);
        var view = ml.Data.LoadFromBinary(output);
        Assert.Equal(90, ml.Data.CreateEnumerable<Row>(view, false).Count());
        Assert.Equal(1280, ((Microsoft.ML.Data.VectorDataViewType)view.Schema["Features"].Type).Size);

        var second = CliTests.EffnetWithHome(home, "featurize", "--data", SampleData.Folder, "--out", output, "--random-init", "--force");
        Assert.True(second.Code == 0, second.Err);
        Assert.Contains("0 featurized, 90 from the cache", Flat(second.Out));
    }

    // The console wraps long lines; compare text with every run of whitespace as one space.
    private static string Flat(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    public sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }
}
