using System.Text.Json;

namespace EffNet.MLNet.Tests.MultiLabel;

/// <summary><c>effnet train --multi-label</c>, then predict, evaluate and retrain on the model, from the command line.</summary>
public class MultiLabelCliTests
{
    // Mutation (not run): PredictCommand does not dispatch on model.json's task -> the single-label path fails to read model.json -> fails.
    // Mutation (not run): MultiLabelCommands.Predict prints labels under their threshold too -> an image shows three or four labels -> fails.
    // Mutation (not run: the mutant fine-tunes for minutes): TrainCommand checks for ';' labels after the fine-tuning dispatch, as it did -> exit 0 -> fails.
    // Mutation: MultiLabelCommands.LoadModel without its slot check -> predict names the swapped labels, exit 0 -> fails.
    [Fact]
    // ~25 s on 2 busy cores (60 images at 224 pixels, featurized once, then from the cache)
    public void Train_predict_evaluate_and_retrain_a_multi_label_model()
    {
        using var dir = new TempDir();
        var manifest = ShapeColourImages.Write(dir.File("data"), count: 60, seed: 9);
        var home = dir.File("home");
        var model = dir.File("model.zip");

        // A manifest with ';' in its labels is refused by single-label training, with the flag to use.
        var single = CliTests.EffnetWithHome(home, "train", "--data", manifest, "--out", model, "--random-init");
        Assert.Equal(3, single.Code);
        Assert.Contains("pass --multi-label", OneLine(single.Err));
        // Fine-tuning is single-label too: refused the same way before any work (it once trained a class named "blue;disc").
        var fineTune = CliTests.EffnetWithHome(home, "train", "--data", manifest, "--out", model, "--random-init", "--fine-tune", "--variant", "b0");
        Assert.Equal(3, fineTune.Code);
        Assert.Contains("pass --multi-label", OneLine(fineTune.Err));

        var train = CliTests.EffnetWithHome(home, "train", "--multi-label", "--data", manifest, "--out", model, "--random-init", "--trainer", "lbfgs");
        Assert.True(train.Code == 0, train.Out + train.Err);
        Assert.Contains("Average precision", train.Out);
        Assert.Matches(@"Micro-F1 [0-9.]+, macro-F1 [0-9.]+, mAP [0-9.]+, Hamming loss [0-9.]+ on 12 images\.", train.Out);
        using var report = JsonDocument.Parse(File.ReadAllText(dir.File("model.json")));
        var root = report.RootElement;
        Assert.Equal("multi-label", root.GetProperty("task").GetString());
        Assert.Equal(["blue", "disc", "red", "square"], root.GetProperty("labels").EnumerateArray().Select(e => e.GetString()));
        var thresholds = root.GetProperty("thresholds").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(4, thresholds.Length);
        Assert.Equal(4, root.GetProperty("metrics").GetProperty("perLabel").GetArrayLength());
        Assert.Equal(30, root.GetProperty("data").GetProperty("imagesPerLabel").GetProperty("red").GetInt32());

        var images = Directory.GetFiles(dir.File("data"), "*.png").Order(StringComparer.Ordinal).Take(8).ToArray();
        var json = CliTests.EffnetWithHome(home, ["predict", "--model", model, "--json", .. images]);
        Assert.True(json.Code == 0, json.Err);
        var predictions = JsonDocument.Parse(json.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(8, predictions.Count);
        foreach (var p in predictions)
        {
            var all = p.GetProperty("probabilities").EnumerateArray().ToList();
            Assert.Equal(thresholds, all.Select(x => x.GetProperty("threshold").GetSingle()));
            var over = all.Where(x => x.GetProperty("probability").GetSingle() >= x.GetProperty("threshold").GetSingle()).Select(x => x.GetProperty("label").GetString()).Order();
            Assert.Equal(over, p.GetProperty("labels").EnumerateArray().Select(x => x.GetString()).Order());
        }
        var text = CliTests.EffnetWithHome(home, ["predict", "--model", model, images[0]]);
        Assert.True(text.Code == 0, text.Err);
        var first = predictions[0].GetProperty("labels").EnumerateArray().Select(x => x.GetString()!).ToList();
        Assert.All(first, l => Assert.Contains(l, text.Out));

        var evaluate = CliTests.EffnetWithHome(home, "evaluate", "--model", model, "--data", manifest, "--json");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        var metrics = JsonDocument.Parse(evaluate.Out).RootElement;
        Assert.Equal(60, metrics.GetProperty("rows").GetInt32());
        Assert.InRange(metrics.GetProperty("hammingLoss").GetDouble(), 0, 0.25);   // the model has seen these images

        var retrained = dir.File("retrained.zip");
        var retrain = CliTests.EffnetWithHome(home, "retrain", "--model", model, "--data", manifest, "--out", retrained, "--quiet");
        Assert.True(retrain.Code == 0, retrain.Out + retrain.Err);
        Assert.Contains("macro-F1", retrain.Out);
        Assert.Contains("0 images featurized, 60 from the cache", retrain.Out);
        using var again = JsonDocument.Parse(File.ReadAllText(dir.File("retrained.json")));
        Assert.Equal("multi-label", again.RootElement.GetProperty("task").GetString());

        // codegen writes the multi-label ModelOutput (MultiLabelCodegenTests builds and runs it); export --model writes the probabilities.
        var codegen = CliTests.EffnetWithHome(home, "codegen", "--model", model, "--out", dir.File("gen"), "--namespace", "Tags");
        Assert.True(codegen.Code == 0, codegen.Out + codegen.Err);
        Assert.Contains("PredictedLabels", File.ReadAllText(Path.Combine(dir.File("gen"), "Tags", "ModelOutput.cs")));
        var export = CliTests.EffnetWithHome(home, "export", "--model", model, "--out", dir.File("tags.onnx"));
        Assert.True(export.Code == 0, export.Err);
        Assert.Contains("probabilities [N,K] (multi-label", OneLine(export.Out));
        Assert.True(File.Exists(dir.File("tags.onnx")));

        // A model.json whose labels are not the .zip's slots (two swapped) is refused, not read by position.
        var forged = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir.File("model.json")))!;
        var labels = forged["labels"]!.AsArray();
        (labels[0], labels[1]) = (labels[1]!.DeepClone(), labels[0]!.DeepClone());
        File.WriteAllText(dir.File("model.json"), forged.ToJsonString());
        foreach (var command in new[] { new[] { "predict", "--model", model, images[0] }, ["evaluate", "--model", model, "--data", manifest],
                     ["codegen", "--model", model, "--out", dir.File("gen2")] })
        {
            var refused = CliTests.EffnetWithHome(home, command);
            Assert.Equal(3, refused.Code);
            Assert.Contains("do not belong together", OneLine(refused.Err));
        }

        // A bad row: one line naming the file and the line, exit 3, nothing written.
        File.AppendAllText(manifest, "img000.png,\"red;;disc\"\n");
        var bad = CliTests.EffnetWithHome(home, "train", "--multi-label", "--data", manifest, "--out", dir.File("bad.zip"), "--random-init");
        Assert.Equal(3, bad.Code);
        Assert.Contains($"'{manifest}' line 62: an empty label", OneLine(bad.Err));
        Assert.False(File.Exists(dir.File("bad.zip")));
    }

    // The CLI wraps long error lines at the console width.
    private static string OneLine(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");
}
