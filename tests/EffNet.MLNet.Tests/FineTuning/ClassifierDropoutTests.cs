using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>
/// Dropout before the classifier: the loss and the classifier's gradients against the closed form on the
/// graph's own features, the backbone's gradients against a network whose classifier columns carry the mask,
/// and the masks' draw.
/// </summary>
public class ClassifierDropoutTests
{
    private const double Rate = 0.5;

    // Mutation: the classifier reads the unmasked features (Gemm over `features`) -> fails (this test and the next).
    // Mutation: the weight gradient uses the unmasked features -> fails (this test and the next).
    [Fact]
    public void Loss_and_classifier_gradients_equal_the_closed_form_with_each_images_own_mask()
    {
        var p = FineTuneFixtures.Parameters();
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution,
            new TrainingGraphOptions { LabelSmoothing = FineTuneFixtures.LabelSmoothing, DropoutRate = Rate });
        Assert.NotNull(graph.Dropout);
        var n = FineTuneFixtures.Batch;
        var k = FineTuneFixtures.Classes;
        var d = graph.FeatureDimension;
        var random = new Random(7);
        var mask = Enumerable.Range(0, n * d).Select(_ => random.NextDouble() < Rate ? 0f : (float)(1 / (1 - Rate))).ToArray();
        var (pixels, labels) = FineTuneFixtures.Images(0);
        var logits = new float[n * k];
        var features = new float[n * d];
        using var session = new TrainingSession(graph, p, threads: 2);
        var loss = session.Run(pixels, labels, n, logits, features, dropoutMask: mask);

        // The features output is the whole pooled vector: the graph without dropout gives the same.
        var plain = TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution, FineTuneFixtures.LabelSmoothing);
        using var plainSession = new TrainingSession(plain, p, threads: 2);
        var plainFeatures = new float[n * d];
        var plainLoss = plainSession.Run(pixels, labels, n, new float[n * k], plainFeatures);
        Assert.True(FineTuneTestNetworks.MaxRelative(features, plainFeatures) <= 1e-6);
        Assert.True(Math.Abs(loss - plainLoss) > 1e-3, $"dropout changed nothing ({loss} vs {plainLoss})");

        var w = p.Values[NetworkParameters.ClassifierWeight];
        var b = p.Values[NetworkParameters.ClassifierBias];
        var eps = FineTuneFixtures.LabelSmoothing;
        var expectedLogits = new float[n * k];
        var dW = new double[k * d];
        var dB = new double[k];
        double expectedLoss = 0;
        for (var i = 0; i < n; i++)
        {
            var z = new double[k];
            for (var c = 0; c < k; c++)
            {
                double s = b[c];
                for (var j = 0; j < d; j++) s += (double)features[i * d + j] * mask[i * d + j] * w[c * d + j];
                z[c] = s;
                expectedLogits[i * k + c] = (float)s;
            }
            var max = z.Max();
            var logSum = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
            for (var c = 0; c < k; c++)
            {
                var q = (c == labels[i] ? 1 - eps : 0) + eps / k;
                expectedLoss -= q * (z[c] - logSum) / n;
                var dl = (Math.Exp(z[c] - logSum) - q) / n;
                dB[c] += dl;
                for (var j = 0; j < d; j++) dW[c * d + j] += dl * features[i * d + j] * mask[i * d + j];
            }
        }
        Assert.True(Math.Abs(loss - expectedLoss) <= 1e-5 * Math.Abs(expectedLoss), $"loss {loss} vs {expectedLoss}");
        Assert.True(FineTuneTestNetworks.MaxRelative(logits, expectedLogits) <= 1e-5);
        Assert.True(FineTuneTestNetworks.NormRelative(session.Gradients[NetworkParameters.ClassifierWeight], dW.Select(v => (float)v).ToArray()) <= 1e-5);
        Assert.True(FineTuneTestNetworks.NormRelative(session.Gradients[NetworkParameters.ClassifierBias], dB.Select(v => (float)v).ToArray()) <= 1e-5);
    }

    // With the same mask row m for every image, dropout is the plain network with classifier weights W·diag(m):
    // the backbone's gradients must be that network's, and the classifier's its gradient times m per column.
    // Mutation: the backward to the features leaves out the mask -> fails (only this test sees it).
    [Fact]
    public void Backbone_gradients_pass_through_the_mask()
    {
        var p = FineTuneFixtures.Parameters();
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Top(1), FineTuneFixtures.Resolution,
            new TrainingGraphOptions { LabelSmoothing = FineTuneFixtures.LabelSmoothing, DropoutRate = Rate });
        var n = FineTuneFixtures.Batch;
        var k = FineTuneFixtures.Classes;
        var d = graph.FeatureDimension;
        var random = new Random(11);
        var row = Enumerable.Range(0, d).Select(_ => random.NextDouble() < Rate ? 0f : (float)(1 / (1 - Rate))).ToArray();
        var mask = Enumerable.Range(0, n).SelectMany(_ => row).ToArray();
        var (pixels, labels) = FineTuneFixtures.Images(0);
        using var session = new TrainingSession(graph, p, threads: 2);
        var loss = session.Run(pixels, labels, n, new float[n * k], dropoutMask: mask);

        var scaled = FineTuneFixtures.Parameters();
        var w = scaled.Values[NetworkParameters.ClassifierWeight];
        for (var c = 0; c < k; c++)
            for (var j = 0; j < d; j++) w[c * d + j] *= row[j];
        var plain = TrainingGraphBuilder.Build(scaled, Unfreeze.Top(1), FineTuneFixtures.Resolution, FineTuneFixtures.LabelSmoothing);
        using var plainSession = new TrainingSession(plain, scaled, threads: 2);
        var plainLoss = plainSession.Run(pixels, labels, n, new float[n * k]);

        Assert.True(Math.Abs(loss - plainLoss) <= 1e-5 * Math.Abs(plainLoss), $"loss {loss} vs {plainLoss}");
        var classifierWeight = plainSession.Gradients[NetworkParameters.ClassifierWeight].Select((v, i) => v * row[i % d]).ToArray();
        Assert.True(FineTuneTestNetworks.NormRelative(session.Gradients[NetworkParameters.ClassifierWeight], classifierWeight) <= 1e-5);
        var backbone = graph.Trainable.Where(t => t != NetworkParameters.ClassifierWeight).ToList();
        Assert.True(backbone.Count > 10, "top:1 trains the last stage and the head");
        var failures = backbone.Where(t => !(FineTuneTestNetworks.NormRelative(session.Gradients[t], plainSession.Gradients[t]) <= 1e-5)).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {backbone.Count} gradients differ: " + string.Join(", ", failures.Take(5)));
    }

    // Mutation: ClassifierDropoutMask keeps with probability p instead of 1 − p -> fails (kept share, with p = 0.2).
    // Mutation: mask value 1 instead of 1/(1 − p) -> fails (values).
    [Fact]
    public void Masks_keep_one_minus_p_scaled_repeat_for_a_batch_and_rate_zero_adds_no_input()
    {
        var p = FineTuneFixtures.Parameters();
        var none = TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution, new TrainingGraphOptions { LabelSmoothing = 0.1, DropoutRate = 0 });
        Assert.Null(none.Dropout);
        Assert.Equal(TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution, 0.1).Model.ToString(), none.Model.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution, new TrainingGraphOptions { DropoutRate = 1 }));

        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Head, FineTuneFixtures.Resolution, new TrainingGraphOptions { LabelSmoothing = 0.1, DropoutRate = 0.2 });
        const int batch = 16;
        var masks = new ClassifierDropoutMask(graph.Dropout!, batch, seed: 3);
        var values = masks.Draw(epoch: 1, batchIndex: 0, batch).ToArray();
        Assert.Equal(batch * 1280, values.Length);
        Assert.All(values, v => Assert.True(v == 0 || Math.Abs(v - 1 / 0.8) < 1e-6, $"mask value {v}"));
        Assert.InRange(values.Count(v => v != 0) / (double)values.Length, 0.78, 0.82);
        Assert.Equal(values, masks.Draw(1, 0, batch));
        Assert.NotEqual(values, masks.Draw(1, 1, batch));
        Assert.Throws<ArgumentException>(() => new TrainingSession(graph, p, threads: 1).Run(
            FineTuneFixtures.Images(0).Pixels, FineTuneFixtures.Images(0).Labels, FineTuneFixtures.Batch, new float[FineTuneFixtures.Batch * FineTuneFixtures.Classes]));
    }
}
