using EffNet.MLNet.Architecture;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Onnx;

/// <summary>
/// Seeded random weights for an architecture, for tests and for running without a checkpoint.
/// He-normal kernels keep activations at a stable scale through the depth of the network, so
/// random features still carry information about colour, shape and texture.
/// </summary>
public static class RandomWeights
{
    /// <summary>The same seed always gives the same weights.</summary>
    public static NetworkWeights Create(EfficientNetArchitecture architecture, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var random = new Random(seed);
        var convs = new Dictionary<string, ConvWeights>(StringComparer.Ordinal);
        foreach (var layer in architecture.ConvLayers)
        {
            var fanIn = layer.WeightCount / layer.OutChannels;
            // Linear outputs (projection, gate logits) get unit gain; SiLU-activated ones the He gain of 2.
            var gain = layer.Role is ConvRole.Project or ConvRole.SqueezeExpand ? 1.0 : 2.0;
            var std = Math.Sqrt(gain / fanIn);
            var kernel = new float[layer.WeightCount];
            for (var i = 0; i < kernel.Length; i++) kernel[i] = (float)(std * Gaussian(random));
            convs[layer.Name] = new ConvWeights(kernel, new float[layer.OutChannels]);
        }
        return new NetworkWeights(convs, null, $"random(seed={seed})");
    }

    private static double Gaussian(Random random)
    {
        // Box–Muller; 1 − U keeps the logarithm finite.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
