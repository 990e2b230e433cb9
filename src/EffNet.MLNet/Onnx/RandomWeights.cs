using EffNet.MLNet.Architecture;
using EffNet.MLNet.Weights;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EffNet.MLNet.Onnx;

/// <summary>
/// Seeded random weights for an architecture, for tests and for running without a checkpoint.
/// </summary>
/// <remarks>
/// A deep random network whose every layer is normalised to unit scale (He init, or LSUV) is
/// chaotic: its response to fine texture grows layer after layer, and on real images the
/// features drown colour and shape (measured on the sample data: nearest-centroid accuracy near
/// chance). Kernels are therefore drawn LeCun-normal (std 1/√fan-in), which keeps the network in
/// its ordered, nearly linear regime where pooled features still reflect colour, shape and
/// texture; only the head convolution is then calibrated, per channel as batch-norm would, on a
/// seeded synthetic batch so the features come out at unit scale.
/// </remarks>
public static class RandomWeights
{
    /// <summary>Changes whenever a change here alters the weights a seed gives (and so the features).</summary>
    public const string Version = "1";

    private const int CalibrationImages = 8;
    private const int CalibrationResolution = 128;

    /// <summary>The same seed always gives the same weights.</summary>
    public static NetworkWeights Create(EfficientNetArchitecture architecture, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var random = new Random(seed);
        var convs = new Dictionary<string, ConvWeights>(StringComparer.Ordinal);
        foreach (var layer in architecture.ConvLayers)
        {
            var std = 1.0 / Math.Sqrt(layer.WeightCount / layer.OutChannels);
            var kernel = new float[layer.WeightCount];
            for (var i = 0; i < kernel.Length; i++) kernel[i] = (float)(std * Gaussian(random));
            convs[layer.Name] = new ConvWeights(kernel, new float[layer.OutChannels]);
        }
        var raw = new NetworkWeights(convs, null, $"random(seed={seed})");
        return CalibrateHead(architecture, raw, seed);
    }

    private static NetworkWeights CalibrateHead(EfficientNetArchitecture architecture, NetworkWeights raw, int seed)
    {
        var layers = architecture.ConvLayers.ToList();
        var graph = EfficientNetOnnxExporter.Build(architecture, raw,
            new FeatureExtractorOptions { Resolution = CalibrationResolution }, calibration: true);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using var session = new InferenceSession(graph.ToByteArray(), options);

        var names = new List<string> { EfficientNetOnnxExporter.InputName };
        var values = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(SyntheticImages.Batch(CalibrationImages, CalibrationResolution, seed),
                [CalibrationImages, 3, CalibrationResolution, CalibrationResolution]),
        };
        foreach (var l in layers)
        {
            names.Add(l.Name + ".cal_scale");
            values.Add(OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1f, l.OutChannels).ToArray(), [1, l.OutChannels, 1, 1]));
            names.Add(l.Name + ".cal_shift");
            values.Add(OrtValue.CreateTensorValueFromMemory(new float[l.OutChannels], [1, l.OutChannels, 1, 1]));
        }

        var head = architecture.Head;
        double[] mean, std;
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, [head.Name]);
            (mean, std) = ChannelStatistics(outputs[0].GetTensorDataAsSpan<float>(), head.OutChannels);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }

        var w = raw.Convolutions[head.Name];
        var perChannel = w.Kernel.Length / head.OutChannels;
        var kernel = new float[w.Kernel.Length];
        var bias = new float[head.OutChannels];
        for (var c = 0; c < head.OutChannels; c++)
        {
            bias[c] = (float)(-mean[c] / std[c]);
            for (var i = c * perChannel; i < (c + 1) * perChannel; i++) kernel[i] = (float)(w.Kernel[i] / std[c]);
        }
        var convs = new Dictionary<string, ConvWeights>(raw.Convolutions) { [head.Name] = new ConvWeights(kernel, bias) };
        return raw with { Convolutions = convs };
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
            var variance = squares / count - mean[c] * mean[c];
            std[c] = double.IsFinite(variance) && variance > 0 ? Math.Sqrt(variance) : double.NaN;
        }
        // A channel that barely varies on the calibration batch keeps the layer's median scale,
        // rather than being blown up by dividing by almost nothing.
        var finite = std.Where(double.IsFinite).Order().ToList();
        var floor = finite.Count > 0 ? Math.Max(1e-30, 0.1 * finite[finite.Count / 2]) : 1.0;
        for (var c = 0; c < channels; c++)
        {
            std[c] = double.IsFinite(std[c]) ? Math.Max(std[c], floor) : 1.0;
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
