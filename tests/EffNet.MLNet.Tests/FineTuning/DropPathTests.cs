using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Stochastic depth in the training graph against PyTorch fed the same masks, and the masks' draw.</summary>
public class DropPathTests
{
    // Mutation: drop probability rate·(i + 1)/n instead of torchvision's rate·i/n -> fails (probabilities; and the gradients).
    // Mutation: DropPath's backward passes dy through without the mask -> fails (195 of 213 tensors, 0.5-0.6 relative).
    [Fact]
    public void Gradients_with_PyTorch_masks_equal_PyTorch()
    {
        var p = FineTuneTrainingFixtures.Parameters();
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Everything, FineTuneFixtures.Resolution,
            new TrainingGraphOptions { LabelSmoothing = FineTuneFixtures.LabelSmoothing, DropPathRate = FineTuneTrainingFixtures.DropPathRate });
        var reference = FineTuneTrainingFixtures.Reference;
        var expectedBlocks = reference.Keys.Where(k => k.StartsWith("dp.mask.", StringComparison.Ordinal)).Select(k => int.Parse(k["dp.mask.".Length..], System.Globalization.CultureInfo.InvariantCulture)).Order();
        Assert.Equal(expectedBlocks, graph.DropPaths.Select(d => d.BlockIndex));
        Assert.All(graph.DropPaths, d => Assert.Equal(FineTuneTrainingFixtures.DropPathRate * d.BlockIndex / 16, d.Probability, 12));
        var masks = graph.DropPaths.ToDictionary(d => d.Name, d => reference["dp.mask." + d.BlockIndex].Data, StringComparer.Ordinal);

        using var session = new TrainingSession(graph, p, threads: 2);
        var (pixels, labels) = FineTuneFixtures.Images(0);
        var loss = session.Run(pixels, labels, FineTuneFixtures.Batch, new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes], dropPathMasks: masks);
        var expected = reference["dp.loss"].Data[0];
        Assert.True(Math.Abs(loss - expected) <= 1e-5 * Math.Abs(expected), $"loss {loss} vs {expected}");
        var failures = FineTuneTrainingFixtures.Differences(graph.Trainable, n => session.Gradients[n], "dp.grad.", 1e-4, 1e-5);
        Assert.True(failures.Count == 0, $"{failures.Count} gradients differ: " + string.Join("; ", failures.Take(10)));
    }

    // Guards "rate 0 is today's graph": the emitted model is compared node for node with the plain builder's.
    [Fact]
    public void Rate_zero_is_todays_graph_and_masks_of_one_change_nothing()
    {
        var p = FineTuneFixtures.Parameters();
        var plain = TrainingGraphBuilder.Build(p, Unfreeze.Everything, FineTuneFixtures.Resolution, FineTuneFixtures.LabelSmoothing);
        var zero = TrainingGraphBuilder.Build(p, Unfreeze.Everything, FineTuneFixtures.Resolution, new TrainingGraphOptions { LabelSmoothing = FineTuneFixtures.LabelSmoothing, DropPathRate = 0 });
        Assert.Empty(zero.DropPaths);
        Assert.Equal(plain.Model.ToString(), zero.Model.ToString());

        var dropping = TrainingGraphBuilder.Build(p, Unfreeze.Everything, FineTuneFixtures.Resolution, new TrainingGraphOptions { LabelSmoothing = FineTuneFixtures.LabelSmoothing, DropPathRate = 0.2 });
        Assert.Equal(9, dropping.DropPaths.Count); // B0's residual blocks
        var (pixels, labels) = FineTuneFixtures.Images(0);
        var logits = new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes];
        using var a = new TrainingSession(plain, p, threads: 2);
        using var b = new TrainingSession(dropping, p, threads: 2);
        a.Run(pixels, labels, FineTuneFixtures.Batch, logits);
        var ones = dropping.DropPaths.ToDictionary(d => d.Name, _ => Enumerable.Repeat(1f, FineTuneFixtures.Batch).ToArray(), StringComparer.Ordinal);
        b.Run(pixels, labels, FineTuneFixtures.Batch, logits, dropPathMasks: ones);
        // Not bit for bit: without a mask between them ONNX Runtime fuses the projection's convolution with the
        // residual addition, which rounds differently (differences near 1e-5 of the norm).
        Assert.All(plain.Trainable, n => Assert.True(FineTuneTestNetworks.NormRelative(b.Gradients[n], a.Gradients[n]) <= 5e-5, n));
    }

    // Mutation: DropPathMasks keeps with probability p instead of 1 − p -> fails (dropped share).
    // Mutation: mask value 1 instead of 1/(1 − p) -> fails (values).
    [Fact]
    public void Masks_keep_one_minus_p_scaled_and_repeat_for_the_same_batch()
    {
        var p = FineTuneFixtures.Parameters();
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution, new TrainingGraphOptions { LabelSmoothing = 0.1, DropPathRate = 0.5 });
        var last = graph.DropPaths[^1];
        Assert.Equal(0.5 * 14 / 16, last.Probability, 12); // block 14 (features.6.3) is the last residual one
        const int batch = 64;
        var masks = new DropPathMasks(graph, batch, seed: 3);
        var kept = 0;
        for (var b = 0; b < 100; b++)
            foreach (var v in masks.Draw(epoch: 1, b, batch)[last.Name])
            {
                Assert.True(v == 0 || Math.Abs(v - 1 / (1 - last.Probability)) < 1e-5, $"mask value {v}");
                if (v != 0) kept++;
            }
        Assert.InRange(kept / 6400.0, 1 - last.Probability - 0.03, 1 - last.Probability + 0.03);
        var first = masks.Draw(2, 5, batch)[last.Name].ToArray();
        var other = masks.Draw(2, 6, batch)[last.Name].ToArray();
        Assert.Equal(first, masks.Draw(2, 5, batch)[last.Name]);
        Assert.NotEqual(first, other);
    }
}
