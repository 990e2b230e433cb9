using System.Text.Json;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary><c>effnet train --fine-tune</c> end to end: a stock .zip, model.json's record, retrain and predict on it.</summary>
public class FineTuneCliTests
{
    // Mutation: FineTuneRun passes the variant's own resolution instead of --resolution to the
    // featurizer -> fails (crop 224, not 64).
    [Fact]
    public void Fine_tuned_model_is_a_stock_zip_that_retrain_and_predict_use()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 8);
        var model = dir.File("model.zip");
        var train = CliTests.Effnet("train", "--data", data, "--out", model, "--fine-tune", "--random-init", "--epochs", "1",
            "--resolution", "64", "--fine-tune-batch", "8", "--trainer", "sdca", "--quiet");
        Assert.True(train.Code == 0, train.Err);

        var report = JsonDocument.Parse(File.ReadAllText(dir.File("model.json"))).RootElement;
        Assert.Equal(64, report.GetProperty("backbone").GetProperty("cropSize").GetInt32());
        var fineTuning = report.GetProperty("fineTuning");
        Assert.Equal("top:2", fineTuning.GetProperty("unfreeze").GetString());
        var history = fineTuning.GetProperty("history").EnumerateArray().ToList();
        Assert.Single(history);
        Assert.True(history[0].GetProperty("imagesPerSecond").GetDouble() > 0);
        Assert.True(File.Exists(dir.File("model.finetuned.safetensors")));
        Assert.False(File.Exists(dir.File("model.finetuned.safetensors.checkpoint")), "the checkpoint is removed once the model is saved");

        var images = Directory.GetDirectories(data).Order(StringComparer.Ordinal).Select(d => Directory.GetFiles(d).Order(StringComparer.Ordinal).First()).ToArray();
        var stock = PortableModelTests.RunConsumer([model, .. images]);
        var ours = CliTests.Effnet(["predict", "--model", model, "--json", .. images]);
        Assert.True(ours.Code == 0, ours.Err);
        var predicted = JsonDocument.Parse(ours.Out).RootElement.EnumerateArray().Select(e => e.GetProperty("label").GetString() ?? "").ToList();
        Assert.Equal(predicted, stock.Select(s => s.Label).ToList());

        var retrained = dir.File("retrained.zip");
        var retrain = CliTests.Effnet("retrain", "--model", model, "--data", data, "--out", retrained, "--quiet");
        Assert.True(retrain.Code == 0, retrain.Err);
        Assert.True(File.Exists(retrained));
    }

    [Fact]
    public void Bad_class_weights_word_is_a_usage_error()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2);
        var r = CliTests.Effnet("train", "--data", data, "--out", dir.File("model.zip"), "--fine-tune", "--random-init", "--class-weights", "balanced");
        Assert.Equal(2, r.Code);
        Assert.Contains("--class-weights must be auto, none or a JSON file", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_unfreeze_word_is_a_usage_error()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2);
        var r = CliTests.Effnet("train", "--data", data, "--out", dir.File("model.zip"), "--fine-tune", "--random-init", "--unfreeze", "top:zero");
        Assert.Equal(2, r.Code);
        Assert.Contains("--unfreeze must be head, top:K", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Dropout_of_one_is_a_usage_error()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2);
        var r = CliTests.Effnet("train", "--data", data, "--out", dir.File("model.zip"), "--fine-tune", "--random-init", "--dropout", "1");
        Assert.Equal(2, r.Code);
        Assert.Contains("--dropout must lie in [0, 1), not 1.", r.Err, StringComparison.Ordinal);
    }
}
