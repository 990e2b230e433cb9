using System.Text.Json;
using System.Text.Json.Serialization;
using Onnx;

namespace EffNet.MLNet.Training;

/// <summary>
/// <c>classifier.onnx.json</c> beside an exported <c>classifier.onnx</c>: what a Node or Python program needs
/// and cannot read from the graph (onnxruntime-node exposes no model metadata): the labels in score
/// order, the input size, and the exact preprocessing of the saved model's stock chain.
/// </summary>
internal static class ClassifierSidecar
{
    public const string Format = "effnet-classifier/1";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static byte[] Build(ModelProto onnx, string onnxFileName)
    {
        var metadata = onnx.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var size = int.Parse(metadata["effnet.input_size"], System.Globalization.CultureInfo.InvariantCulture);
        var labels = JsonSerializer.Deserialize<string[]>(metadata[ClassifierOnnxExporter.LabelsKey])!;
        var sidecar = new
        {
            format = Format,
            onnx = onnxFileName,
            labels,
            inputSize = size,
            input = new { name = ClassifierOnnxExporter.InputName, type = "float32", shape = new object[] { "N", 3, size, size }, layout = "NCHW, planar RGB", range = new[] { 0, 255 } },
            outputs = onnx.Graph.Output.Any(o => o.Name == ClassifierOnnxExporter.ProbabilitiesName)
            ? new object[]
            {
                new { name = ClassifierOnnxExporter.ProbabilitiesName, type = "float32", shape = new object[] { "N", labels.Length }, meaning = "the multi-label model's Probability, one per label in 'labels' order; a label is predicted at or over its threshold in the model's model.json" },
            }
            : new object[]
            {
                new { name = ClassifierOnnxExporter.ScoresName, type = "float32", shape = new object[] { "N", labels.Length }, meaning = "the ML.NET model's Score, one per label in 'labels' order" },
                new { name = ClassifierOnnxExporter.PredictedIndexName, type = "int64", shape = new object[] { "N" }, meaning = "index into 'labels' of the highest score" },
            },
            preprocessing = new
            {
                decode = "the stored pixels as 8-bit sRGB: EXIF orientation ignored; transparency composited over black",
                geometry = $"ML.NET 6 ResizeImages({size}, {size}, IsoCrop, Center): scale = max({size}/width, {size}/height) in float32; " +
                    $"the whole image is drawn into a rectangle of trunc(width*scale) x trunc(height*scale) pixels at offset " +
                    $"(trunc(({size} - width*scale)/2), trunc(({size} - height*scale)/2)) of a {size}x{size} black canvas (trunc rounds toward zero)",
                filter = "Mitchell-Netravali cubic (B = 1/3, C = 1/3) sampled at pixel centres, no antialiasing and no mipmaps (Skia's SKCubicResampler.Mitchell); " +
                    "Pillow's and OpenCV's bicubic filters are different cubics and give slightly different pixels",
                values = "float32 0-255; the ImageNet mean and standard deviation are applied inside the graph",
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(sidecar, Json);
    }
}
