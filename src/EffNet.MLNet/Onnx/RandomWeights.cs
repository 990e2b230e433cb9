using EffNet.MLNet.Architecture;
using EffNet.MLNet.Weights;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EffNet.MLNet.Onnx;

/// <summary>
/// Seeded random weights for an architecture, for tests and for running without a checkpoint.
/// Without batch-norm statistics a deep random network's activations vanish or explode, so the
/// kernels are drawn He-normal and then calibrated layer by layer on a seeded synthetic batch
/// (LSUV, Mishkin &amp; Matas 2016): each convolution gets the per-channel scale and shift that
/// batch-norm would have given it. The features stay finite and informative at any depth.
/// </summary>
public static class RandomWeights
{
    private const int CalibrationImages = 8;
    private const int CalibrationResolution = 64;

    /// <summary>The same seed always gives the same weights.</summary>
    public static NetworkWeights Create(EfficientNetArchitecture architecture, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var random = new Random(seed);
        var layers = architecture.ConvLayers.ToList();
        var convs = new Dictionary<string, ConvWeights>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            var std = Math.Sqrt(2.0 / (layer.WeightCount / layer.OutChannels));
            var kernel = new float[layer.WeightCount];
            for (var i = 0; i < kernel.Length; i++) kernel[i] = (float)(std * Gaussian(random));
            convs[layer.Name] = new ConvWeights(kernel, new float[layer.OutChannels]);
        }
        var raw = new NetworkWeights(convs, null, $"random(seed={seed})");
        return Calibrate(architecture, raw, layers, seed);
    }

    private static NetworkWeights Calibrate(EfficientNetArchitecture architecture, NetworkWeights raw, List<ConvLayer> layers, int seed)
    {
        var graph = EfficientNetOnnxExporter.Build(architecture, raw,
            new FeatureExtractorOptions { Resolution = CalibrationResolution }, calibration: true);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using var session = new InferenceSession(graph.ToByteArray(), options);

        var pixels = SyntheticImages.Batch(CalibrationImages, CalibrationResolution, seed);
        var scales = layers.ToDictionary(l => l.Name, l => Enumerable.Repeat(1f, l.OutChannels).ToArray());
        var shifts = layers.ToDictionary(l => l.Name, l => new float[l.OutChannels]);
        var inputNames = new List<string> { EfficientNetOnnxExporter.InputName };
        inputNames.AddRange(layers.SelectMany(l => new[] { l.Name + ".cal_scale", l.Name + ".cal_shift" }));

        // Layer by layer, in execution order: every earlier layer is already normalised.
        foreach (var layer in layers)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [CalibrationImages, 3, CalibrationResolution, CalibrationResolution]);
            var values = new List<OrtValue> { input };
            foreach (var l in layers)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(scales[l.Name], [1, l.OutChannels, 1, 1]));
                values.Add(OrtValue.CreateTensorValueFromMemory(shifts[l.Name], [1, l.OutChannels, 1, 1]));
            }
            try
            {
                using var runOptions = new RunOptions();
                using var outputs = session.Run(runOptions, inputNames, values, [layer.Name]);
                var (mean, std) = ChannelStatistics(outputs[0].GetTensorDataAsSpan<float>(), layer.OutChannels);
                for (var c = 0; c < layer.OutChannels; c++)
                {
                    scales[layer.Name][c] = (float)(1.0 / std[c]);
                    shifts[layer.Name][c] = (float)(-mean[c] / std[c]);
                }
            }
            finally
            {
                foreach (var v in values.Skip(1)) v.Dispose();
            }
        }

        var folded = new Dictionary<string, ConvWeights>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            var w = raw.Convolutions[layer.Name];
            var perChannel = w.Kernel.Length / layer.OutChannels;
            var kernel = new float[w.Kernel.Length];
            for (var i = 0; i < kernel.Length; i++) kernel[i] = w.Kernel[i] * scales[layer.Name][i / perChannel];
            folded[layer.Name] = new ConvWeights(kernel, (float[])shifts[layer.Name].Clone());
        }
        return raw with { Convolutions = folded };
    }

    private static (double[] Mean, double[] Std) ChannelStatistics(ReadOnlySpan<float> nchw, int channels)
    {
        var perImage = nchw.Length / CalibrationImages;
        var spatial = perImage / channels;
        var mean = new double[channels];
        var std = new double[channels];
        for (var c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (var n = 0; n < CalibrationImages; n++)
                foreach (var v in nchw.Slice(n * perImage + c * spatial, spatial))
                {
                    sum += v;
                    squares += (double)v * v;
                }
            var count = (double)CalibrationImages * spatial;
            mean[c] = sum / count;
            var variance = Math.Max(0, squares / count - mean[c] * mean[c]);
            // A channel that never varies (or blew up) keeps unit scale rather than dividing by ~0.
            std[c] = double.IsFinite(variance) && variance > 1e-10 ? Math.Sqrt(variance) : 1.0;
            if (!double.IsFinite(mean[c])) mean[c] = 0;
        }
        return (mean, std);
    }

    private static double Gaussian(Random random)
    {
        // Box–Muller; 1 − U keeps the logarithm finite.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
