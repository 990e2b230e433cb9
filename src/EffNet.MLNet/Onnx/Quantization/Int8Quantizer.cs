using Onnx;

namespace EffNet.MLNet.Onnx.Quantization;

/// <summary>
/// Static int8 quantization of a feature-extractor graph built by <see cref="EfficientNetOnnxExporter"/>:
/// per-channel symmetric int8 weights and uint8 activations in QDQ form, with activation ranges
/// measured on calibration images. The result is standard ONNX that ONNX Runtime (and so ML.NET's
/// <c>ApplyOnnxModel</c>) runs with integer kernels.
/// </summary>
internal static class Int8Quantizer
{
    /// <summary>Changes whenever a change to the quantization alters the int8 features.</summary>
    public const string Version = "1";

    /// <summary>Quantize <paramref name="model"/>, calibrating on <paramref name="images"/>.</summary>
    /// <param name="model">A float graph built by <see cref="EfficientNetOnnxExporter"/>.</param>
    /// <param name="images">Calibration images, each [3, H, W] RGB 0…255 at the graph's input size.</param>
    /// <param name="method">How each activation's range is chosen. Default: <see cref="CalibrationMethod.LeastSquares"/>, which kept features closest to float32's.</param>
    public static ModelProto Quantize(ModelProto model, IReadOnlyList<float[]> images, CalibrationMethod method = CalibrationMethod.LeastSquares) =>
        Quantize(model, images, method, keepFloat: null);

    internal static ModelProto Quantize(ModelProto model, IReadOnlyList<float[]> images, CalibrationMethod method, Func<NodeProto, bool>? keepFloat,
        int floatStages = QuantizationLayout.FloatStages)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        var tensors = QuantizationLayout.Activations(model.Graph, keepFloat, floatStages);
        var ranges = RangeCalibrator.Measure(model, tensors, images, method);
        return Mark(QdqRewriter.Rewrite(model, ranges), $"{method.ToString().ToLowerInvariant()} over {images.Count} images");
    }

    /// <summary>The ranges of every activation the default layout quantizes: enough for <see cref="Apply"/> with any blocks kept in float.</summary>
    internal static Dictionary<string, ActivationRange> Calibrate(ModelProto model, IReadOnlyList<float[]> images, CalibrationMethod method) =>
        RangeCalibrator.Measure(model, QuantizationLayout.Activations(model.Graph), images, method);

    /// <summary>
    /// The int8 graph with the default layout less <paramref name="floatBlocks"/> (names from
    /// <see cref="QuantizationLayout.Blocks"/>), from ranges <see cref="Calibrate"/> measured.
    /// </summary>
    internal static ModelProto Apply(ModelProto model, IReadOnlyDictionary<string, ActivationRange> ranges, IReadOnlyCollection<string> floatBlocks, string calibration)
    {
        var tensors = QuantizationLayout.Activations(model.Graph, floatBlocks.Count == 0 ? null : n => floatBlocks.Contains(QuantizationLayout.BlockOf(n.Name)));
        var quantized = Mark(QdqRewriter.Rewrite(model, tensors.ToDictionary(t => t, t => ranges[t])), calibration);
        if (floatBlocks.Count > 0) quantized.MetadataProps.Add(new StringStringEntryProto { Key = "effnet.float_blocks", Value = string.Join(",", floatBlocks) });
        return quantized;
    }

    private static ModelProto Mark(ModelProto quantized, string calibration)
    {
        quantized.MetadataProps.Add(new StringStringEntryProto { Key = "effnet.precision", Value = "int8" });
        quantized.MetadataProps.Add(new StringStringEntryProto { Key = "effnet.calibration", Value = calibration });
        return quantized;
    }
}
