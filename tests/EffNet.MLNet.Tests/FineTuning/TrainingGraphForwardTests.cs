using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;
using EffNet.MLNet.Onnx;

namespace EffNet.MLNet.Tests.FineTuning;

public class TrainingGraphForwardTests
{
    private const int Batch = 2;
    private const int Resolution = 64;

    // The training graph (unfolded batch-norm in evaluation mode, trainable tensors as inputs,
    // frozen layers folded constants) computes the same features as the inference graph.
    // Mutation: the normalisation scale 1/(255·std) in TrainingGraphBuilder.Normalise replaced by 1/255 -> fails (0.79-0.90).
    // (Batch-norm means are zero here: shifted means make these random networks input-blind; the
    // gradient parity test against PyTorch's data-calibrated network covers them.)
    [Theory]
    [InlineData("b0", "all")]
    [InlineData("b0", "top:2")]
    [InlineData("w=0.5,d=0.5,r=64", "all")]
    [InlineData("w=0.5,d=0.5,r=64", "head")]
    public void Forward_matches_the_inference_graph(string variant, string unfreeze)
    {
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.Parse(variant));
        var p = FineTuneTestNetworks.Create(architecture, classes: 3, seed: 5);
        var pixels = SyntheticImages.Batch(Batch, Resolution, 11);
        var expected = FineTuneTestNetworks.InferenceFeatures(p, pixels, Batch, Resolution);

        var graph = TrainingGraphBuilder.Build(p, Unfreeze.TryParse(unfreeze)!, Resolution, labelSmoothing: 0.1);
        using var session = new TrainingSession(graph, p, threads: 2);
        var features = new float[Batch * architecture.FeatureDimension];
        var loss = session.Run(pixels, new long[Batch], Batch, new float[Batch * 3], features);

        Assert.True(float.IsFinite(loss));
        var error = FineTuneTestNetworks.MaxRelative(features, expected);
        Assert.True(error <= 1e-5, $"max relative error {error:e2}");
        // Input-sensitive: the two images' features differ far beyond the tolerance.
        var d = architecture.FeatureDimension;
        var between = FineTuneTestNetworks.MaxRelative(expected.AsSpan(0, d), expected.AsSpan(d, d));
        Assert.True(between > 1e-2, $"images differ by {between:e2}; error {error:e2}");
    }
}
