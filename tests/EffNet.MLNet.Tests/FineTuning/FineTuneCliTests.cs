using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

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
    // What a user sees of a run left going: the memory it needs, a line per epoch, Ctrl+C keeping the last whole
    // epoch, and --resume finishing the same run.
    // Mutation: FineTuneRun's catch of OperationCanceledException no longer keeps the checkpoint message -> fails (stderr).
    // Mutation: FineTuneRun passes resume: false to FineTuner.Run (starts over from epoch 1) -> fails (the resumed run prints epoch 1 again).
    [Fact]
    public void Ctrl_C_keeps_the_last_whole_epoch_and_resume_finishes_the_run()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // SIGINT is sent with kill(1)
        using var home = new TempDir();
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 5);
        var model = dir.File("model.zip");
        var checkpoint = dir.File("model.finetuned.safetensors.checkpoint");
        string[] args = ["train", "--data", data, "--out", model, "--fine-tune", "--random-init", "--epochs", "12", "--resolution", "32",
            "--fine-tune-batch", "4", "--trainer", "sdca"];
        string firstEpoch;
        using (var run = RunningEffnet.Start(home.Path, args))
        {
            var deadline = Stopwatch.StartNew();
            while (!File.Exists(checkpoint))
            {
                if (run.Process.HasExited) Assert.Fail("the run ended before its first checkpoint: " + run.Finish().Err);
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(3), "no checkpoint in 3 minutes");
                Thread.Sleep(20);
            }
            run.Interrupt();
            var (code, stdout, stderr) = run.Finish();
            Assert.True(code == 130, $"exit code {code}; stderr: {stderr}");
            Assert.Contains("run the same command with --resume to continue", stderr, StringComparison.Ordinal);
            Assert.True(Regex.IsMatch(stdout, @"Fine-tuning .* 12 epochs; needs about \d+ MiB\."), stdout);
            firstEpoch = Assert.Single(stdout.Split('\n'), l => l.StartsWith("epoch 1/12:", StringComparison.Ordinal));
            Assert.True(Regex.IsMatch(firstEpoch.Trim(), @"^epoch 1/12: loss \d+\.\d{4}, accuracy \d\.\d{3}; validation loss \d+\.\d{4}, accuracy \d\.\d{3}( \(best so far\))?, \d+\.\d images/s, ETA \d\d:\d\d:\d\d$"), firstEpoch);
            Assert.DoesNotContain("epoch 12/12:", stdout, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(checkpoint), "Ctrl+C removed the checkpoint");
        Assert.False(File.Exists(model), "an interrupted run wrote a model");

        var resumed = CliTests.EffnetWithHome(home.Path, [.. args, "--resume"]);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.DoesNotContain("epoch 1/12:", resumed.Out, StringComparison.Ordinal);
        Assert.Contains("epoch 12/12:", resumed.Out, StringComparison.Ordinal);
        var history = JsonDocument.Parse(File.ReadAllText(dir.File("model.json"))).RootElement.GetProperty("fineTuning").GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(1, 12), history.Select(e => e.GetProperty("epoch").GetInt32()));
        var loss = double.Parse(firstEpoch["epoch 1/12: loss ".Length..].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(loss, history[0].GetProperty("loss").GetDouble(), 4);
        Assert.False(File.Exists(checkpoint), "the checkpoint is removed once the model is saved");
    }

    // A truncated JPEG among the images: found before training (every image decoded once), named, left out of
    // fine-tuning and the head alike; under --on-bad-image fail it stops the run before any epoch, naming the file.
    // Before, the decode inside fine-tuning's parallel loop ended the run with an AggregateException's stack trace.
    // Mutation: FineTuneRun screens headers only (BadImages.CheckHeaders) -> fails (the decode in fine-tuning stops the run, exit 3,
    // instead of leaving the image out).
    [Fact]
    public void A_damaged_image_is_left_out_by_name_or_stops_the_run_under_fail()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 4);
        var source = Directory.GetFiles(Path.Combine(data, "discs")).Order(StringComparer.Ordinal).First();
        var damaged = Path.Combine(data, "discs", "cut.jpg");
        var bytes = File.ReadAllBytes(source);
        File.WriteAllBytes(damaged, bytes[..(bytes.Length * 2 / 3)]);   // the header whole, the body cut: only a decode finds it
        string[] args = ["train", "--data", data, "--fine-tune", "--random-init", "--epochs", "1", "--resolution", "32", "--fine-tune-batch", "4", "--trainer", "sdca", "--quiet"];

        var skipped = CliTests.Effnet([.. args, "--out", dir.File("model.zip")]);
        Assert.True(skipped.Code == 0, skipped.Err);
        Assert.True(skipped.Err.Contains($"skipped {damaged}: is truncated", StringComparison.Ordinal), skipped.Err);
        Assert.DoesNotContain("Exception", skipped.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("model.zip")));

        var failed = CliTests.Effnet([.. args, "--out", dir.File("failed.zip"), "--on-bad-image", "fail"]);
        Assert.Equal(3, failed.Code);
        Assert.Contains($"'{damaged}' is truncated", failed.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("failed.finetuned.safetensors.checkpoint")), "the run started before refusing");
    }
}
