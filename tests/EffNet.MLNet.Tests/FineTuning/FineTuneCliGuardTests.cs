namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>
/// <c>effnet train --fine-tune</c> loses nothing the user has without asking, and ends a diverged or mis-specified run
/// with one line and the documented exit code.
/// </summary>
public class FineTuneCliGuardTests
{
    private static string[] Run(string data, string output, params string[] more) =>
        ["train", "--data", data, "--out", output, "--fine-tune", "--random-init", "--epochs", "1", "--resolution", "32", "--fine-tune-batch", "4",
            "--trainer", "sdca", "--quiet", .. more];

    // Mutation: FineTuneRun without RefuseToLoseFiles -> fails (each refusal is a silent overwrite, exit 0).
    [Fact]
    public void Fine_tuned_weights_an_interrupted_run_and_the_start_weights_are_not_replaced_without_asking()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 3);
        var model = dir.File("m.zip");
        var first = CliTests.Effnet(Run(data, model));
        Assert.True(first.Code == 0, first.Err);
        var weights = dir.File("m.finetuned.safetensors");
        var kept = File.ReadAllBytes(weights);

        // The model and its report moved to an archive; its fine-tuned weights are still here, and it needs them.
        Directory.CreateDirectory(dir.File("archive"));
        foreach (var name in new[] { "m.zip", "m.json", "m.confusion.png" }) File.Move(dir.File(name), dir.File("archive/" + name));
        var again = CliTests.Effnet(Run(data, model));
        Assert.Equal(2, again.Code);
        Assert.Contains($"'{weights}' already exists; pass --force", again.Err, StringComparison.Ordinal);
        Assert.Equal(kept, File.ReadAllBytes(weights));

        // The start weights are the file this run would write: refused even with --force.
        var start = CliTests.Effnet(["train", "--data", data, "--out", model, "--fine-tune", "--weights", weights, "--weights-family", "torchvision", "--force", "--quiet"]);
        Assert.Equal(2, start.Code);
        Assert.Contains("is the file this run would write its fine-tuned weights to", start.Err, StringComparison.Ordinal);
        Assert.Equal(kept, File.ReadAllBytes(weights));

        // An interrupted run's checkpoint: --resume continues it, --force starts over; nothing else touches it.
        var checkpoint = dir.File("n.finetuned.safetensors.checkpoint");
        File.WriteAllText(checkpoint, "an interrupted run");
        var interrupted = CliTests.Effnet(Run(data, dir.File("n.zip")));
        Assert.Equal(2, interrupted.Code);
        Assert.Contains("holds an interrupted fine-tuning run; pass --resume to continue it, or --force to start over", interrupted.Err, StringComparison.Ordinal);
        Assert.Equal("an interrupted run", File.ReadAllText(checkpoint));
        var over = CliTests.Effnet(Run(data, dir.File("n.zip"), "--force"));
        Assert.True(over.Code == 0, over.Err);
        Assert.False(File.Exists(checkpoint));
    }

    // SGD at a learning rate of 9.9 on every layer sends the loss to NaN within the first epochs.
    // Mutation: FineTuner without the validation-loss check -> fails (NaN chosen as the best epoch; the head's trainer then
    // fails deep inside ML.NET).
    // Mutation: ErrorReporter without its FineTuningDivergedException case -> fails (exit 1 and a stack trace).
    [Fact]
    public void A_diverged_run_stops_with_one_line_naming_the_learning_rate_and_writes_no_model()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 5);
        var model = dir.File("m.zip");
        var r = CliTests.Effnet(["train", "--data", data, "--out", model, "--fine-tune", "--random-init", "--epochs", "3", "--resolution", "32",
            "--fine-tune-batch", "4", "--unfreeze", "all", "--optimizer", "sgd", "--lr", "9.9", "--quiet"]);
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.Matches(@"^error: The (training|validation) loss became (NaN|-?∞|-?Infinity) in epoch \d: the weights diverged\. Lower the learning rate; .* \(--lr\)\s*$", r.Err);
        Assert.False(File.Exists(model));
        Assert.False(File.Exists(dir.File("m.json")));
    }

    // Mutation: Unfreeze.TryParse back to K up to 64 -> fails (top:8 trains as top:7, recorded as given).
    [Theory]
    [InlineData("--dropout", "1", "--dropout must lie in [0, 1), not 1.")]
    [InlineData("--unfreeze", "top:8", "--unfreeze must be head, top:K (K from 1 to 7, the stages) or all, not 'top:8'.")]
    [InlineData("--time-budget", "NaN", "--time-budget must be positive and at most 1e10 seconds, not NaN.")]
    [InlineData("--time-budget", "1e300", "--time-budget must be positive and at most 1e10 seconds, not 1E+300.")]
    [InlineData("--time-budget", "-5", "--time-budget must be positive and at most 1e10 seconds, not -5.")]
    [InlineData("--out", "FOLDER", "is a folder; name the model file to write in it")]
    [InlineData("--weights-family", "timm", "--fine-tune reads torchvision checkpoints (--weights-family torchvision or auto), not --weights-family timm.")]
    public void A_mis_specified_option_is_a_usage_error_naming_it(string option, string value, string expected)
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2);
        var output = value == "FOLDER" ? dir.Path : dir.File("m.zip");
        string[] args = ["train", "--data", data, "--fine-tune", "--random-init", "--out", output];
        if (option != "--out") args = [.. args, option, value];
        var r = CliTests.Effnet(args);
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.Contains(expected, r.Err, StringComparison.Ordinal);
    }

    // Mutation: FineTuneRun passes the library's message on whole -> fails ("(Parameter 'images')" names no flag).
    [Fact]
    public void One_label_is_refused_in_the_users_words()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 3);
        foreach (var other in Directory.GetDirectories(data).Order(StringComparer.Ordinal).Skip(1)) Directory.Delete(other, recursive: true);
        var r = CliTests.Effnet(Run(data, dir.File("m.zip")));
        Assert.True(r.Code is 2 or 3, $"exit {r.Code}: {r.Err}");
        Assert.Contains("at least two labels", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", r.Err, StringComparison.Ordinal);
    }

    // Mutation: TrainCommand.Settings.Validate without the fine-tuning-options check -> fails (exit 0: a head on frozen
    // 224 px features, the epochs, learning rate and resolution silently unused).
    [Fact]
    public void Fine_tuning_options_without_fine_tune_are_a_usage_error_naming_them()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2);
        var r = CliTests.Effnet("train", "--data", data, "--out", dir.File("m.zip"), "--random-init", "--epochs", "5", "--lr", "1e-3", "--resolution", "64");
        Assert.Equal(2, r.Code);
        Assert.Contains("--epochs, --resolution, --lr are fine-tuning options: add --fine-tune, or leave them out", r.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("m.zip")));
    }

    // Mutation: RetrainCommand reads model.json's absolute weightsPath only -> fails (exit 4: the old folder's file is gone).
    [Fact]
    public void A_fine_tuned_model_moved_with_its_weights_retrains_in_its_new_folder()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 3);
        Directory.CreateDirectory(dir.File("a"));
        var trained = CliTests.Effnet(Run(data, dir.File("a/m.zip")));
        Assert.True(trained.Code == 0, trained.Err);
        Directory.Move(dir.File("a"), dir.File("b"));

        var retrained = CliTests.Effnet("retrain", "--model", dir.File("b/m.zip"), "--data", data, "--out", dir.File("b/r.zip"), "--quiet");
        Assert.True(retrained.Code == 0, retrained.Err);
        Assert.True(File.Exists(dir.File("b/r.zip")));
    }
}
