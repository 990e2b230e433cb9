using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Every trainable tensor's gradient from the emitted graph against PyTorch's autograd (float64) on torchvision's B0.</summary>
public class GradientParityTests
{
    private const double Tolerance = 1e-4;

    // Mutation: output_padding 0 in TrainingGraphBuilder.InputGradient -> fails (ONNX Runtime refuses the shapes at block6a).
    // Mutation: SiLU derivative σ + a·(1 − σ) written σ + a·(σ − 1) -> fails (every tensor below the head, 0.5-1.0).
    // Mutation: batch-norm shift β − μ·s written β + μ·s -> fails (loss 10.7 vs 2.30 for all, 2.68 for top:2).
    [Theory]
    [InlineData("all", 213)]
    [InlineData("top:2", 70)]
    [InlineData("head", 2)]
    public void Gradients_equal_PyTorch(string unfreeze, int expectedTrainable)
    {
        var p = FineTuneFixtures.Parameters();
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.TryParse(unfreeze)!, FineTuneFixtures.Resolution, FineTuneFixtures.LabelSmoothing);
        Assert.Equal(expectedTrainable, graph.Trainable.Count);
        using var session = new TrainingSession(graph, p, threads: 2);
        var (pixels, labels) = FineTuneFixtures.Images(0);
        var logits = new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes];
        var loss = session.Run(pixels, labels, FineTuneFixtures.Batch, logits);

        var reference = FineTuneFixtures.Reference;
        Assert.True(Math.Abs(loss - reference["loss"].Data[0]) <= 1e-5 * Math.Abs(reference["loss"].Data[0]), $"loss {loss} vs {reference["loss"].Data[0]}");
        Assert.True(FineTuneTestNetworks.MaxRelative(logits, reference["logits"].Data) <= 1e-5);
        var failures = new List<string>();
        foreach (var name in graph.Trainable)
        {
            var error = FineTuneTestNetworks.NormRelative(session.Gradients[name], reference["grad." + name].Data);
            if (!(error <= Tolerance)) failures.Add($"{name}: {error:e2}");
        }
        Assert.True(failures.Count == 0, "gradients differ: " + string.Join("; ", failures.Take(10)));
    }
}
