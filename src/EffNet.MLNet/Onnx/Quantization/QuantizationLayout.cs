using Onnx;

namespace EffNet.MLNet.Onnx.Quantization;

/// <summary>
/// Which activations of the feature-extractor graph are quantized. ONNX Runtime turns a
/// DequantizeLinear → op → QuantizeLinear group into one integer kernel (QLinearConv, QLinearMul,
/// QLinearAdd, QLinearSigmoid, QLinearGlobalAveragePool), so quantizing every activation from the
/// normalised input to the last SiLU keeps whole blocks in int8; a float op between two
/// convolutions costs a dequantize, the float op and a quantize over the whole tensor.
/// The stem and the first <see cref="FloatStages"/> stages stay float: at their resolution the int8
/// element-wise ops (QLinearSigmoid and QLinearMul for each SiLU) cost more than ONNX Runtime's fused
/// float SiLU, their int8 convolutions gain little (the stem has three input channels, depthwise
/// kernels few multiply-adds), and the rounding injected there grows through every later block.
/// On B0 with photo-calibrated batch-norm this kept features' median cosine at 0.996 against 0.984
/// with every activation quantized, and was faster too (see docs/BENCHMARKS.md, "Int8 backbone").
/// The final pooling and everything after it stay float.
/// </summary>
internal static class QuantizationLayout
{
    private static readonly HashSet<string> IntegerOps = ["Conv", "Add", "Mul", "Sigmoid", "GlobalAveragePool", "Clip"]; // Clip: Lite's ReLU6

    /// <summary>Stages (of seven) that stay float after the stem.</summary>
    public const int FloatStages = 3;

    /// <param name="graph">The graph <see cref="EfficientNetOnnxExporter"/> built.</param>
    /// <param name="keepFloat">Ops whose output stays float besides the pooling at the end (for measuring other layouts).</param>
    /// <param name="floatStages">Stages that stay float after the stem; 0 quantizes the stem too (for measuring other layouts).</param>
    public static IReadOnlyList<string> Activations(GraphProto graph, Func<NodeProto, bool>? keepFloat = null, int floatStages = FloatStages)
    {
        var tensors = new List<string>();
        var integer = new HashSet<string>(); // nodes that run in int8
        foreach (var node in graph.Node)
        {
            if (node.Name == EfficientNetOnnxExporter.PoolNodeName) break;
            if (!IntegerOps.Contains(node.OpType) || InFloatPart(node.Name, floatStages) || keepFloat?.Invoke(node) == true) continue;
            integer.Add(node.Name);
            tensors.Add(node.Output[0]);
        }
        // The float part's output that the first int8 block reads is quantized too, or that block's
        // first convolution would run in float.
        var produced = graph.Node.Where(n => !integer.Contains(n.Name) && n.Name != EfficientNetOnnxExporter.PoolNodeName && IntegerOps.Contains(n.OpType))
            .ToDictionary(n => n.Output[0], n => n);
        foreach (var input in graph.Node.Where(n => integer.Contains(n.Name)).SelectMany(n => n.Input).Distinct().ToList())
            if (produced.ContainsKey(input) && !tensors.Contains(input)) tensors.Add(input);
        if (tensors.Count == 0 || graph.Node.All(n => n.Name != EfficientNetOnnxExporter.PoolNodeName))
            throw new ArgumentException($"Graph '{graph.Name}' is not an EfficientNet feature extractor built by this library (no '{EfficientNetOnnxExporter.PoolNodeName}' node); only those can be quantized.", nameof(graph));
        return tensors;
    }

    /// <summary>
    /// The blocks the default layout quantizes, in graph order (<c>block4a</c> … <c>block7a</c>, <c>top</c> for B0):
    /// the units the int8 check may keep in float.
    /// </summary>
    public static IReadOnlyList<string> Blocks(GraphProto graph) => graph.Node
        .TakeWhile(n => n.Name != EfficientNetOnnxExporter.PoolNodeName)
        .Where(n => IntegerOps.Contains(n.OpType) && !InFloatPart(n.Name, FloatStages))
        .Select(n => BlockOf(n.Name)).Distinct().ToList();

    /// <summary>The block a node belongs to: its name up to the first underscore (<c>block6a_expand_conv</c> → <c>block6a</c>, <c>top_conv</c> → <c>top</c>).</summary>
    public static string BlockOf(string node)
    {
        var end = node.IndexOf('_', StringComparison.Ordinal);
        return end < 0 ? node : node[..end];
    }

    // Node names follow the architecture's layer names: normalize, stem_conv…, block{stage}{letter}_…, top_conv….
    private static bool InFloatPart(string node, int floatStages)
    {
        if (floatStages == 0) return false;
        if (node == "normalize" || node.StartsWith("stem_", StringComparison.Ordinal)) return true;
        if (!node.StartsWith("block", StringComparison.Ordinal)) return false;
        var digits = node.AsSpan(5);
        var length = 0;
        while (length < digits.Length && char.IsAsciiDigit(digits[length])) length++;
        return length > 0 && int.Parse(digits[..length], provider: System.Globalization.CultureInfo.InvariantCulture) <= floatStages;
    }
}
