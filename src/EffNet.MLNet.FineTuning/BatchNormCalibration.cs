using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// Data-dependent batch-norm statistics for a random start: layer by layer, in network order, each
/// batch-norm's running mean and variance become its convolution's output statistics on a batch
/// of training images (the layers below already normalised), with γ = 1 and β = 0. Frozen
/// batch-norm then normalises as a trained network's does; with identity statistics a random
/// deep network's activations grow or vanish and training from it is hopeless.
/// </summary>
internal static class BatchNormCalibration
{
    private const float MinimumVariance = 1e-3f;

    public static void Calibrate(NetworkParameters p, float[] pixels, int count, int resolution)
    {
        var a = p.Architecture;
        var layers = a.ConvLayers.ToList();
        // Batch-norm layers without their shift, so the graph's raw outputs are the convolutions themselves.
        var convs = layers.ToDictionary(l => l.Name, l => new ConvWeights(
            p.Values[NetworkParameters.ConvWeight(l)], l.HasBatchNorm ? new float[l.OutChannels] : p.Values[NetworkParameters.ConvBias(l)]), StringComparer.Ordinal);
        var model = EfficientNetOnnxExporter.Build(a, new NetworkWeights(convs, null, p.Source), new FeatureExtractorOptions { Resolution = resolution }, calibration: true);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using var session = new InferenceSession(model.ToByteArray(), options);

        var scales = layers.ToDictionary(l => l.Name, l => Enumerable.Repeat(1f, l.OutChannels).ToArray(), StringComparer.Ordinal);
        var shifts = layers.ToDictionary(l => l.Name, l => new float[l.OutChannels], StringComparer.Ordinal);
        foreach (var l in layers.Where(l => l.HasBatchNorm))
        {
            var (mean, variance) = Statistics(session, layers, scales, shifts, pixels, count, resolution, l.Name, l.OutChannels);
            for (var c = 0; c < l.OutChannels; c++)
            {
                variance[c] = Math.Max(variance[c], MinimumVariance);
                var scale = (float)(1.0 / Math.Sqrt(variance[c] + p.Epsilon));
                scales[l.Name][c] = scale;
                shifts[l.Name][c] = -mean[c] * scale;
            }
            mean.CopyTo(p.Values[NetworkParameters.BatchNorm(l, "running_mean")], 0);
            variance.CopyTo(p.Values[NetworkParameters.BatchNorm(l, "running_var")], 0);
            Array.Fill(p.Values[NetworkParameters.BatchNorm(l, "weight")], 1f);
            Array.Fill(p.Values[NetworkParameters.BatchNorm(l, "bias")], 0f);
        }
    }

    private static (float[] Mean, float[] Variance) Statistics(InferenceSession session, List<Architecture.ConvLayer> layers,
        Dictionary<string, float[]> scales, Dictionary<string, float[]> shifts, float[] pixels, int count, int resolution, string output, int channels)
    {
        var names = new List<string> { EfficientNetOnnxExporter.InputName };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, count * 3 * resolution * resolution), [count, 3, resolution, resolution]) };
        foreach (var l in layers)
        {
            names.Add(l.Name + ".cal_scale");
            values.Add(OrtValue.CreateTensorValueFromMemory(scales[l.Name], [1, l.OutChannels, 1, 1]));
            names.Add(l.Name + ".cal_shift");
            values.Add(OrtValue.CreateTensorValueFromMemory(shifts[l.Name], [1, l.OutChannels, 1, 1]));
        }
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, [output]);
            var data = outputs[0].GetTensorDataAsSpan<float>();
            var spatial = data.Length / count / channels;
            var mean = new float[channels];
            var variance = new float[channels];
            for (var c = 0; c < channels; c++)
            {
                double sum = 0, squares = 0;
                for (var n = 0; n < count; n++)
                    foreach (var v in data.Slice((n * channels + c) * spatial, spatial))
                    {
                        sum += v;
                        squares += (double)v * v;
                    }
                var m = sum / (count * spatial);
                mean[c] = (float)m;
                variance[c] = (float)Math.Max(0, squares / (count * spatial) - m * m);
            }
            return (mean, variance);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }
}
