using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EffNet.MLNet.Onnx.Quantization;

/// <summary>
/// Measures the range of every activation that will be quantized: the float graph runs on each
/// calibration image with those intermediate tensors added as graph outputs.
/// </summary>
internal static class RangeCalibrator
{
    private const int Bins = 4096;
    private const double ClippedShare = 1e-5; // each tail, for CalibrationMethod.Percentile

    /// <param name="model">The float graph; its single non-initializer input takes one image [1, 3, H, W].</param>
    /// <param name="tensors">The tensors to measure.</param>
    /// <param name="images">Calibration images, each [3, H, W] as the graph input expects.</param>
    /// <param name="method">How the range is chosen from the values seen.</param>
    public static Dictionary<string, ActivationRange> Measure(ModelProto model, IReadOnlyCollection<string> tensors, IReadOnlyList<float[]> images, CalibrationMethod method)
    {
        if (images.Count == 0) throw new ArgumentException("Calibration needs at least one image.", nameof(images));
        var probe = model.Clone();
        var outputs = probe.Graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var name in tensors.Where(t => !outputs.Contains(t)))
            probe.Graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        // No graph optimisation: the ranges are those of the graph as written, before any fusion.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 0 };
        using var session = new InferenceSession(probe.ToByteArray(), options);
        var input = session.InputMetadata.Keys.Single();
        var dims = session.InputMetadata[input].Dimensions;
        long[] shape = [1, dims[1], dims[2], dims[3]];
        var names = tensors.ToArray();

        var ranges = names.ToDictionary(n => n, _ => new ActivationRange(float.PositiveInfinity, float.NegativeInfinity));
        ForEachImage(session, input, shape, images, names, (name, values) =>
        {
            var (min, max) = (ranges[name].Min, ranges[name].Max);
            foreach (var v in values)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            ranges[name] = new ActivationRange(min, max);
        });
        if (method == CalibrationMethod.MinMax) return ranges;

        var histograms = names.ToDictionary(n => n, _ => new long[Bins]);
        ForEachImage(session, input, shape, images, names, (name, values) =>
        {
            var (min, max) = (ranges[name].Min, ranges[name].Max);
            var histogram = histograms[name];
            var perBin = max > min ? Bins / (double)(max - min) : 0;
            foreach (var v in values)
                histogram[Math.Clamp((int)((v - min) * perBin), 0, Bins - 1)]++;
        });
        return names.ToDictionary(n => n, n => method == CalibrationMethod.Percentile ? Clip(ranges[n], histograms[n]) : LeastSquares(ranges[n], histograms[n]));
    }

    private static void ForEachImage(InferenceSession session, string input, long[] shape, IReadOnlyList<float[]> images, string[] names,
        Action<string, ReadOnlySpan<float>> observe)
    {
        using var runOptions = new RunOptions();
        foreach (var image in images)
        {
            using var value = OrtValue.CreateTensorValueFromMemory(image, shape);
            using var results = session.Run(runOptions, [input], [value], names);
            for (var i = 0; i < names.Length; i++)
                observe(names[i], results[i].GetTensorDataAsSpan<float>());
        }
    }

    // The range whose uint8 quantization of the values seen has the least squared error: clipping the
    // tails costs their distance to the range, a wider range costs step²/12 on every value inside it.
    private static ActivationRange LeastSquares(ActivationRange seen, long[] histogram)
    {
        var width = (seen.Max - seen.Min) / (double)Bins;
        var best = seen;
        var bestError = double.PositiveInfinity;
        for (var shrink = 1.0; shrink > 0.05; shrink *= 0.97)
        {
            var low = Math.Min(0, seen.Min * shrink);
            var high = Math.Max(0, seen.Max * shrink);
            var step = (high - low) / 255;
            if (!(step > 0)) break;
            double error = 0;
            for (var b = 0; b < Bins; b++)
            {
                if (histogram[b] == 0) continue;
                var v = seen.Min + (b + 0.5) * width;
                var outside = v < low ? low - v : v > high ? v - high : 0;
                error += histogram[b] * (outside * outside + step * step / 12);
            }
            if (error < bestError) (bestError, best) = (error, new ActivationRange((float)low, (float)high));
        }
        return best;
    }

    private static ActivationRange Clip(ActivationRange seen, long[] histogram)
    {
        var total = histogram.Sum();
        var tail = (long)(total * ClippedShare);
        var width = (seen.Max - seen.Min) / Bins;
        int low = 0, high = Bins - 1;
        for (long below = histogram[0]; below <= tail && low < Bins - 1; below += histogram[++low]) { }
        for (long above = histogram[Bins - 1]; above <= tail && high > 0; above += histogram[--high]) { }
        if (high < low) return seen;
        return new ActivationRange(seen.Min + low * width, seen.Min + (high + 1) * width);
    }
}
