using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>The class-weighted, label-smoothed cross-entropy against PyTorch's <c>CrossEntropyLoss(weight, label_smoothing)</c>.</summary>
public class ClassWeightedLossTests
{
    // Mutation: WeightedLoss divides by the batch size N instead of W = Σ w_{y_n} -> fails (loss 2.30 vs PyTorch's 1.415).
    // Mutation: the smoothing term left unweighted (ε/K instead of ε/K·w_k) -> fails (loss 1.372 vs 1.415).
    // Mutation: gradient (softmax − q)/W without the S_n = Σ_k q_nk factor -> fails (classifier gradients).
    [Fact]
    public void Loss_and_gradients_equal_PyTorch()
    {
        var p = FineTuneTrainingFixtures.Parameters();
        var reference = FineTuneTrainingFixtures.Reference;
        Assert.Equal(FineTuneTrainingFixtures.ClassWeights, reference["cw.weights"].Data);
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution,
            new TrainingGraphOptions { LabelSmoothing = FineTuneFixtures.LabelSmoothing, ClassWeights = FineTuneTrainingFixtures.ClassWeights });
        using var session = new TrainingSession(graph, p, threads: 2);
        var (pixels, labels) = FineTuneFixtures.Images(0);
        var logits = new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes];
        var loss = session.Run(pixels, labels, FineTuneFixtures.Batch, logits);

        var expected = reference["cw.loss"].Data[0];
        Assert.True(Math.Abs(loss - expected) <= 1e-5 * Math.Abs(expected), $"loss {loss} vs {expected}");
        var failures = FineTuneTrainingFixtures.Differences(graph.Trainable, n => session.Gradients[n], "cw.grad.", 1e-4, 0);
        Assert.True(failures.Count == 0, string.Join("; ", failures));
    }

    // Mutation: TrainingGraphBuilder.Loss ignores ClassWeights -> fails (here, and the PyTorch test above: loss 2.295 vs 1.415).
    [Fact]
    public void Equal_weights_give_the_plain_loss_and_other_weights_do_not()
    {
        var p = FineTuneTrainingFixtures.Parameters();
        var (pixels, labels) = FineTuneFixtures.Images(0);
        float LossWith(float[]? weights)
        {
            var graph = TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution,
                new TrainingGraphOptions { LabelSmoothing = 0.1, ClassWeights = weights, Gradients = false });
            using var session = new TrainingSession(graph, p, threads: 1);
            return session.Run(pixels, labels, FineTuneFixtures.Batch, new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes]);
        }
        var plain = LossWith(null);
        Assert.Equal(plain, LossWith([2f, 2f, 2f, 2f]), 5);
        Assert.True(Math.Abs(LossWith(FineTuneTrainingFixtures.ClassWeights) - plain) > 1e-2);
    }

    [Fact]
    public void Loss_weights_follow_the_head_trainers_rule()
    {
        string[] labels = ["a", "b", "c"];
        float[]? Weights(EffNet.MLNet.Training.ClassWeighting mode, int[] rows, Dictionary<string, double>? given = null) =>
            FineTuner.LossWeights(new FineTuneOptions { ClassWeighting = mode, ClassWeights = given }, labels, rows);
        var given = new Dictionary<string, double> { ["a"] = 1, ["b"] = 3, ["c"] = 2 };
        Assert.Equal([1f, 3f, 2f], Weights(EffNet.MLNet.Training.ClassWeighting.None, [0, 1, 2], given));
        given.Remove("c");
        Assert.Contains("'c'", Assert.Throws<InvalidDataException>(() => Weights(EffNet.MLNet.Training.ClassWeighting.None, [0, 1, 2], given)).Message, StringComparison.Ordinal);
        // Inverse frequency, mean 1 over the classes: counts 4, 2, 1 -> 1/4, 1/2, 1 scaled by 3/1.75.
        var inverse = Weights(EffNet.MLNet.Training.ClassWeighting.InverseFrequency, [0, 0, 0, 0, 1, 1, 2])!;
        Assert.Equal([3 / 7f, 6 / 7f, 12 / 7f], inverse, (x, y) => Math.Abs(x - y) < 1e-6);
        // Auto weights only from 3:1 on (4:1 here), and not at 2:1.
        Assert.Equal(inverse, Weights(EffNet.MLNet.Training.ClassWeighting.Auto, [0, 0, 0, 0, 1, 1, 2])!);
        Assert.Null(Weights(EffNet.MLNet.Training.ClassWeighting.Auto, [0, 0, 1, 1, 2]));
        Assert.Null(Weights(EffNet.MLNet.Training.ClassWeighting.None, [0, 0, 0, 0, 1, 1, 2]));
    }
}
