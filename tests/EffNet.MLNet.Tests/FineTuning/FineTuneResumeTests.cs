using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Training;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>An interrupted run resumed from its checkpoint ends where an uninterrupted one does.</summary>
public class FineTuneResumeTests
{
    // Mutation: FineTuneCheckpoint.Load skips the optimizer state (State not restored) -> fails.
    [Fact]
    public void Interrupted_then_resumed_run_equals_an_uninterrupted_one()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2);
        var images = ImageDataset.Load(data);
        var variant = EfficientNetVariant.Parse("w=0.5,d=0.5,r=32");
        var options = new FineTuneOptions { Epochs = 2, Resolution = 32, BatchSize = 4, Threads = 1, Unfreeze = Unfreeze.Top(1), LearningRate = 1e-3 };

        var whole = dir.File("whole.safetensors");
        var history = FineTuner.Run(images, variant, null, options, whole);
        Assert.Equal(2, history.Count);

        var resumed = dir.File("resumed.safetensors");
        using var stop = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() =>
            FineTuner.Run(images, variant, null, options, resumed, progress: new Stopper(stop), cancellationToken: stop.Token));
        Assert.False(File.Exists(resumed));
        Assert.True(File.Exists(FineTuner.CheckpointPath(resumed)));
        var again = FineTuner.Run(images, variant, null, options, resumed, resume: true);
        Assert.Equal(2, again.Count);
        Assert.Equal(history[0].Loss, again[0].Loss, tolerance: 1e-6 * Math.Abs(history[0].Loss)); // kept as float32 in the checkpoint

        var a = SafetensorsReader.Read(whole);
        var b = SafetensorsReader.Read(resumed);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a) Assert.True(t.Data.AsSpan().SequenceEqual(b[name].Data), name);
    }

    // Mutation: FineTuner.Run ignores TimeBudget -> fails (5 epochs, not 1).
    // Mutation: FineTuner.Run stops after the first epoch whenever a budget is set -> fails (the one-hour budget, 1 epoch).
    [Fact]
    public void A_time_budget_stops_after_the_epoch_that_would_overrun_it_and_a_loose_one_does_not()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2);
        var images = ImageDataset.Load(data);
        var variant = EfficientNetVariant.Parse("w=0.5,d=0.5,r=32");
        var options = new FineTuneOptions { Epochs = 5, Resolution = 32, BatchSize = 4, Threads = 1, Unfreeze = Unfreeze.Top(1), LearningRate = 1e-3 };

        var tight = dir.File("tight.safetensors");
        Assert.Single(FineTuner.Run(images, variant, null, options with { TimeBudget = TimeSpan.FromMilliseconds(1) }, tight));
        Assert.True(File.Exists(tight));
        Assert.Equal(5, FineTuner.Run(images, variant, null, options with { TimeBudget = TimeSpan.FromHours(1) }, dir.File("loose.safetensors")).Count);
    }

    // The checkpoint keeps the settings that decide the run; a resume that changes one is refused naming it, one that
    // changes only the learning rate or asks for more epochs continues.
    // Mutation: ResumeSettings.Check returns at once -> fails (the top:2 resume of a top:1 run goes on, its new tensors' moments zero).
    // Mutation: the settings leave out the batch size -> fails (the message does not name it).
    [Fact]
    public void A_resume_with_other_settings_is_refused_naming_them_and_a_lower_learning_rate_is_not()
    {
        using var dir = new TempDir();
        var images = ImageDataset.Load(SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2));
        var variant = EfficientNetVariant.Parse("w=0.5,d=0.5,r=32");
        var options = new FineTuneOptions { Epochs = 3, Resolution = 32, BatchSize = 4, Threads = 1, Unfreeze = Unfreeze.Top(1), LearningRate = 1e-3 };
        var weights = dir.File("w.safetensors");
        using (var stop = new CancellationTokenSource())
            Assert.Throws<OperationCanceledException>(() => FineTuner.Run(images, variant, null, options, weights, progress: new Stopper(stop), cancellationToken: stop.Token));

        var changed = Assert.Throws<ArgumentException>(() => FineTuner.Run(images, variant, null, options with { Unfreeze = Unfreeze.Top(2), BatchSize = 2 }, weights, resume: true));
        Assert.Contains("unfreeze top:1 then, top:2 now", changed.Message, StringComparison.Ordinal);
        Assert.Contains("batch size 4 then, 2 now", changed.Message, StringComparison.Ordinal);
        var fewer = Assert.Throws<ArgumentException>(() => FineTuner.Run(images, variant, null, options with { Epochs = 0 }, weights, resume: true));
        Assert.Contains("records 1 finished epoch; this run asks for 0 in all", fewer.Message, StringComparison.Ordinal);

        var history = FineTuner.Run(images, variant, null, options with { LearningRate = 1e-4 }, weights, resume: true);
        Assert.Equal(3, history.Count);
    }

    private sealed class Stopper(CancellationTokenSource source) : IProgress<FineTuneEpoch>
    {
        public void Report(FineTuneEpoch value) => source.Cancel();
    }
}
