using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;
using EffNet.MLNet.FineTuning.Optimization;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>
/// Batch-norm in training mode (batch statistics, their full backward pass, PyTorch's running update)
/// against PyTorch's float64 autograd and optimizer on torchvision's B0.
/// </summary>
public class BatchNormTrainingParityTests
{
    private const double Tolerance = 1e-4;

    // A tensor PyTorch's float64 gives no gradient at all (a shift a later batch-norm removes) must stay at rounding level.
    private const double ZeroTolerance = 1e-5;

    // Mutation: TrainingGraphBuilder.Conv keeps evaluation-mode BatchNorm when TrainBatchNorm is set -> fails (no batch statistics emitted).
    // Mutation: training-mode input gradient without the x̂·mean(dy·x̂) term -> fails (193 of 213 tensors for all, 61 of 70 for top:2, 0.7-7 relative).
    [Theory]
    [InlineData("all", "bn-all.")]
    [InlineData("top:2", "bn-top2.")]
    public void Gradients_with_batch_statistics_equal_PyTorch(string unfreeze, string prefix)
    {
        var p = FineTuneTrainingFixtures.Parameters();
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.TryParse(unfreeze)!, FineTuneFixtures.Resolution,
            new TrainingGraphOptions { LabelSmoothing = FineTuneFixtures.LabelSmoothing, TrainBatchNorm = true });
        Assert.Equal(unfreeze == "all" ? 49 : 16, graph.BatchStatistics.Count);
        using var session = new TrainingSession(graph, p, threads: 2);
        var (pixels, labels) = FineTuneFixtures.Images(0);
        var logits = new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes];
        var loss = session.Run(pixels, labels, FineTuneFixtures.Batch, logits);

        var reference = FineTuneTrainingFixtures.Reference;
        var expectedLoss = reference[prefix + "loss"].Data[0];
        Assert.True(Math.Abs(loss - expectedLoss) <= 1e-5 * Math.Abs(expectedLoss), $"loss {loss} vs {expectedLoss}");
        if (reference.TryGetValue(prefix + "logits", out var expectedLogits))
            Assert.True(FineTuneTestNetworks.MaxRelative(logits, expectedLogits.Data) <= 1e-5);
        var failures = FineTuneTrainingFixtures.Differences(graph.Trainable, n => session.Gradients[n], prefix + "grad.", Tolerance, ZeroTolerance);
        Assert.True(failures.Count == 0, $"{failures.Count} gradients differ: " + string.Join("; ", failures.Take(10)));
    }

    // Mutation: BatchNormStatistics.Update with the biased batch variance (no M/(M − 1)) -> fails (45 running_var tensors, 2.3e-4 and up).
    // Mutation: running-statistics momentum 0.01 instead of PyTorch's 0.1 -> fails (82 running statistics, up to 5e-2).
    // Mutation: TrainingGraphBuilder.Conv keeps evaluation-mode BatchNorm when TrainBatchNorm is set -> fails (no statistics; the
    // same steps with batch-norm frozen are also run below and must differ from PyTorch's).
    // Mutation: input gradient without the x̂·mean(dy·x̂) term -> fails (67 tensors after three steps, up to 1e-3).
    [Fact]
    public void Three_SGD_steps_with_batch_statistics_equal_PyTorch_running_statistics_included()
    {
        var (p, graph) = ThreeSgdSteps(trainBatchNorm: true);
        var reference = FineTuneTrainingFixtures.Reference;
        var statistics = graph.BatchStatistics.SelectMany(l => new[] { l.RunningMean, l.RunningVariance }).ToList();
        Assert.Equal(98, statistics.Count);
        var failures = new List<string>();
        foreach (var name in graph.Trainable.Concat(statistics))
        {
            var error = FineTuneTestNetworks.NormRelative(p.Values[name], reference["bn-sgd." + name].Data);
            if (!(error <= Tolerance)) failures.Add($"{name}: {error:e2}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} tensors differ: " + string.Join("; ", failures.Take(10)));

        // The same steps with batch-norm left frozen must be told apart.
        var (frozen, _) = ThreeSgdSteps(trainBatchNorm: false);
        var worst = graph.Trainable.Max(n => FineTuneTestNetworks.NormRelative(frozen.Values[n], reference["bn-sgd." + n].Data));
        Assert.True(worst > 10 * Tolerance, $"batch-norm left frozen would pass too ({worst:e2})");
    }

    private static (NetworkParameters, TrainingGraph) ThreeSgdSteps(bool trainBatchNorm)
    {
        var p = FineTuneTrainingFixtures.Parameters();
        var optimizer = new Sgd(momentum: 0.9, weightDecay: 1e-3);
        var schedule = new LearningRateSchedule(1e-4, WarmupSteps: 2, TotalSteps: 5); // the script's SGD and schedule
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Everything, FineTuneFixtures.Resolution,
            new TrainingGraphOptions { LabelSmoothing = FineTuneFixtures.LabelSmoothing, TrainBatchNorm = trainBatchNorm });
        using var session = new TrainingSession(graph, p, threads: 2);
        var logits = new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes];
        for (var step = 0; step < FineTuneFixtures.Steps; step++)
        {
            var (pixels, labels) = FineTuneFixtures.Images(step * FineTuneFixtures.Batch);
            session.Run(pixels, labels, FineTuneFixtures.Batch, logits);
            optimizer.Step(p, session.Gradients, graph.Trainable, schedule.At(step));
            BatchNormStatistics.Update(p, graph, session, FineTuneFixtures.Batch);
        }
        return (p, graph);
    }

    [Fact]
    public void Frozen_layers_keep_evaluation_mode_batch_norm()
    {
        var p = FineTuneTrainingFixtures.Parameters();
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Top(2), FineTuneFixtures.Resolution,
            new TrainingGraphOptions { LabelSmoothing = 0.1, TrainBatchNorm = true });
        Assert.All(graph.BatchStatistics, l => Assert.Matches(@"^features\.[678]\.", l.Prefix));
        var head = TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution,
            new TrainingGraphOptions { LabelSmoothing = 0.1, TrainBatchNorm = true });
        Assert.Empty(head.BatchStatistics);
    }
}
