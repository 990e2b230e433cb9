using System.Text.Json;

namespace EffNet.MLNet.Tests;

/// <summary><c>--class-weights</c> from the command line: what train prints and records, and what retrain reuses or is given.</summary>
public class ClassWeightCliTests
{
    // Mutation: TrainingRun leaves ClassWeights out of the ModelReport -> model.json has no classWeights -> fails.
    // Mutation: RetrainCommand ignores --class-weights (always model.json's) -> the file's weights are not recorded -> fails.
    [Fact]
    [Trait("Category", "Slow")]   // three trainings through the CLI: ~3 min on 2 busy cores
    public void Train_weights_a_3_to_1_folder_by_default_prints_recall_before_and_after_and_retrain_takes_a_weights_file()
    {
        using var dir = new TempDir();
        var data = dir.File("data");
        SampleData.CopyFirst(data, perLabel: 9);
        foreach (var extra in Directory.GetFiles(Path.Combine(data, "stripes")).Order(StringComparer.Ordinal).Skip(3)) File.Delete(extra);
        var home = dir.File("home");
        var model = dir.File("model.zip");

        var train = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", model, "--random-init", "--trainer", "lbfgs");
        Assert.True(train.Code == 0, train.Out + train.Err);
        Assert.Contains("Class weights (validation recall without", train.Out);
        Assert.Contains("recall unweighted", train.Out);
        Assert.Matches(@"Macro recall \(macro-accuracy\): [0-9.]+ unweighted, [0-9.]+ weighted\.", train.Out);
        using (var json = JsonDocument.Parse(File.ReadAllText(dir.File("model.json"))))
        {
            var weights = json.RootElement.GetProperty("classWeights");
            // 1/9, 1/9, 1/3 scaled to mean 1: 0.6, 0.6, 1.8.
            Assert.Equal(0.6, weights.GetProperty("checkers").GetDouble(), 9);
            Assert.Equal(0.6, weights.GetProperty("discs").GetDouble(), 9);
            Assert.Equal(1.8, weights.GetProperty("stripes").GetDouble(), 9);
            Assert.Equal("auto", json.RootElement.GetProperty("settings").GetProperty("classWeights").GetString());
            Assert.Equal(3, json.RootElement.GetProperty("unweightedMetrics").GetProperty("perClass").GetArrayLength());
        }

        File.WriteAllText(dir.File("weights.json"), """{"checkers": 1, "discs": 2, "stripes": 5}""");
        var retrained = dir.File("retrained.zip");
        var retrain = CliTests.EffnetWithHome(home, "retrain", "--model", model, "--data", data, "--out", retrained, "--class-weights", dir.File("weights.json"), "--quiet");
        Assert.True(retrain.Code == 0, retrain.Out + retrain.Err);
        Assert.Contains("classes weighted", retrain.Out);
        using (var json = JsonDocument.Parse(File.ReadAllText(dir.File("retrained.json"))))
        {
            Assert.Equal(5, json.RootElement.GetProperty("classWeights").GetProperty("stripes").GetDouble());
            Assert.Equal(dir.File("weights.json"), json.RootElement.GetProperty("settings").GetProperty("classWeights").GetString());
        }

        // A file that misses a label of the data, or is not JSON: one line naming the file, exit 3, nothing written.
        File.WriteAllText(dir.File("partial-weights.json"), """{"checkers": 1, "discs": 2}""");
        var partial = CliTests.EffnetWithHome(home, "retrain", "--model", model, "--data", data, "--out", dir.File("partial.zip"), "--class-weights", dir.File("partial-weights.json"), "--quiet");
        Assert.Equal(3, partial.Code);
        Assert.Contains("partial-weights.json' gives no weight for the label 'stripes'", OneLine(partial.Err));
        Assert.False(File.Exists(dir.File("partial.zip")));
        File.WriteAllText(dir.File("broken-weights.json"), "[1, 2]");
        var broken = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", dir.File("broken.zip"), "--random-init", "--class-weights", dir.File("broken-weights.json"));
        Assert.Equal(3, broken.Code);
        Assert.Contains("broken-weights.json' is not a JSON object of label to weight", OneLine(broken.Err));
        var word = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", dir.File("word.zip"), "--random-init", "--class-weights", "balanced");
        Assert.Equal(2, word.Code);
        Assert.Contains("--class-weights must be auto, none or a JSON file", OneLine(word.Err));
    }

    // The console wraps long lines (at spaces, or inside a long path): undo it.
    private static string OneLine(string text) => System.Text.RegularExpressions.Regex.Replace(text.Replace("\n", "", StringComparison.Ordinal), @"\s+", " ");
}
