using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;
using EffNet.MLNet.FineTuning.Optimization;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Three optimizer steps from torchvision's weights leave every parameter where PyTorch's do.</summary>
public class OptimizerStepParityTests
{
    private const double Tolerance = 1e-4;

    // Schedule and hyper-parameters of make_finetune_fixtures.py.
    private static readonly LearningRateSchedule SgdSchedule = new(2e-4, WarmupSteps: 2, TotalSteps: 5);
    private static readonly LearningRateSchedule AdamWSchedule = new(1e-4, WarmupSteps: 2, TotalSteps: 5);

    // Mutation: AdamW's weight decay added to the gradient (g + λ·p, coupled) instead of shrinking p -> fails (80 tensors).
    // Mutation: SGD momentum halved after the first step (0.5·μ·b + d) -> fails (76 tensors, up to 9e-3).
    // (SGD's decay of batch-norm and biases too is NOT caught here: λ·lr = 2e-7 per step is below the tolerance.)
    // The same comparison against PyTorch's run with batch-norm left in training mode must fail too (asserted below).
    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void Three_steps_equal_PyTorch(string optimizerName)
    {
        var p = FineTuneFixtures.Parameters();
        Optimizer optimizer = optimizerName == "sgd" ? new Sgd(momentum: 0.9, weightDecay: 1e-3) : new AdamW(0.9, 0.999, 1e-6, weightDecay: 0.05);
        var schedule = optimizerName == "sgd" ? SgdSchedule : AdamWSchedule;
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Everything, FineTuneFixtures.Resolution, FineTuneFixtures.LabelSmoothing);
        using var session = new TrainingSession(graph, p, threads: 2);
        var logits = new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes];
        for (var step = 0; step < FineTuneFixtures.Steps; step++)
        {
            var (pixels, labels) = FineTuneFixtures.Images(step * FineTuneFixtures.Batch);
            session.Run(pixels, labels, FineTuneFixtures.Batch, logits);
            optimizer.Step(p, session.Gradients, graph.Trainable, schedule.At(step));
        }

        var reference = FineTuneFixtures.Reference;
        var failures = new List<string>();
        foreach (var name in graph.Trainable)
        {
            var error = FineTuneTestNetworks.NormRelative(p.Values[name], reference[optimizerName + "." + name].Data);
            if (!(error <= Tolerance)) failures.Add($"{name}: {error:e2}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} parameters differ: " + string.Join("; ", failures.Take(10)));

        if (optimizerName != "sgd") return;
        var worst = graph.Trainable.Max(n => FineTuneTestNetworks.NormRelative(p.Values[n], reference["sgd-bn-train." + n].Data));
        Assert.True(worst > 10 * Tolerance, $"batch-norm in training mode would pass too ({worst:e2})");
    }

    [Fact]
    public void Schedule_warms_up_then_decays_by_cosine()
    {
        Assert.Equal([1e-4, 2e-4, 2e-4, 1.5e-4, 0.5e-4], Enumerable.Range(0, 5).Select(s => Math.Round(SgdSchedule.At(s), 12)));
    }
}
