using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Small seeded networks with non-trivial batch-norm, and the inference graph's answer for them.</summary>
internal static class FineTuneTestNetworks
{
    /// <summary>
    /// Random weights whose batch-norm layers are not the identity (γ, β, μ, σ² drawn around it),
    /// so folding and the evaluation-mode affine both matter.
    /// </summary>
    public static NetworkParameters Create(EfficientNetArchitecture architecture, int classes, int seed)
    {
        var p = NetworkParameters.FromFolded(architecture, RandomWeights.Create(architecture, seed), classes, seed);
        var random = new Random(seed + 1);
        float Around(double centre, double spread) => (float)(centre + spread * (2 * random.NextDouble() - 1));
        foreach (var l in architecture.ConvLayers.Where(l => l.HasBatchNorm))
        {
            foreach (var (part, centre, spread) in new[] { ("weight", 1.0, 0.2), ("bias", 0.0, 0.0), ("running_mean", 0.0, 0.0), ("running_var", 1.0, 0.2) })
            {
                var v = p.Values[NetworkParameters.BatchNorm(l, part)];
                for (var i = 0; i < v.Length; i++) v[i] = part == "weight" ? v[i] * Around(centre, spread) : part == "bias" ? v[i] + Around(centre, spread) : Around(centre, spread);
            }
        }
        return p;
    }

    /// <summary>Features of the ordinary inference graph (batch-norm folded) for the same parameters.</summary>
    public static float[] InferenceFeatures(NetworkParameters p, float[] pixels, int batch, int resolution)
    {
        var model = EfficientNetOnnxExporter.Build(p.Architecture, p.ToNetworkWeights("test"), new FeatureExtractorOptions { Resolution = resolution });
        using var session = new InferenceSession(model.ToByteArray());
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [batch, 3, resolution, resolution]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [EfficientNetOnnxExporter.InputName], [input], [EfficientNetOnnxExporter.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>max |a − b| / max |b|.</summary>
    public static double MaxRelative(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double diff = 0, scale = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        return diff / scale;
    }

    /// <summary>‖a − b‖ / ‖b‖.</summary>
    public static double NormRelative(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double diff = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = (double)actual[i] - expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(diff / Math.Max(norm, 1e-300));
    }
}
