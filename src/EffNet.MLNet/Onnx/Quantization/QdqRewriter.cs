using Google.Protobuf;
using Onnx;
using static EffNet.MLNet.Onnx.OnnxGraphBuilder;

namespace EffNet.MLNet.Onnx.Quantization;

/// <summary>
/// Rewrites a float graph into ONNX's QDQ form: each calibrated activation is followed by a
/// QuantizeLinear → DequantizeLinear pair (uint8, per tensor) that its consumers read; each
/// convolution whose input is quantized gets int8 weights, symmetric per output channel, and int32
/// bias at the input scale × weight scale, both behind DequantizeLinear with axis 0. ONNX Runtime
/// fuses these groups into integer kernels; any runtime without that still computes the same
/// values in float, so the graph stays standard ONNX (opset 13+ ops only).
/// </summary>
internal static class QdqRewriter
{
    public static ModelProto Rewrite(ModelProto model, IReadOnlyDictionary<string, ActivationRange> ranges)
    {
        var copy = model.Clone();
        var graph = copy.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var nodes = new List<NodeProto>(graph.Node.Count * 3);
        var dequantized = new Dictionary<string, string>(); // activation → the DequantizeLinear output its consumers read
        var scales = new Dictionary<string, float>();        // DequantizeLinear output → its scale

        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
                if (dequantized.TryGetValue(node.Input[i], out var read)) node.Input[i] = read;
            // A convolution whose output stays float (a block the int8 check keeps in float) keeps float weights too,
            // even where it reads the previous block's quantized output.
            if (node.OpType == "Conv" && scales.TryGetValue(node.Input[0], out var inputScale) && ranges.ContainsKey(node.Output[0]))
                QuantizeConvolution(node, inputScale, initializers, graph, nodes);
            nodes.Add(node);
            if (!ranges.TryGetValue(node.Output[0], out var range)) continue;
            var (scale, zero) = range.ToUInt8();
            var name = node.Output[0];
            var scaleName = Scalar(graph, name + ".q_scale", scale);
            var zeroName = ZeroPoint(graph, name + ".q_zero", zero);
            nodes.Add(Op("QuantizeLinear", name + "_quantize", [name, scaleName, zeroName], name + "_quantized"));
            nodes.Add(Op("DequantizeLinear", name + "_dequantize", [name + "_quantized", scaleName, zeroName], name + "_dequantized"));
            dequantized[name] = name + "_dequantized";
            scales[name + "_dequantized"] = scale;
        }
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        return copy;
    }

    private static void QuantizeConvolution(NodeProto conv, float inputScale, Dictionary<string, TensorProto> initializers, GraphProto graph, List<NodeProto> nodes)
    {
        var weight = initializers[conv.Input[1]];
        var kernel = Floats(weight);
        var channels = (int)weight.Dims[0];
        var perChannel = kernel.Length / channels;
        var weightScales = new float[channels];
        var quantized = new byte[kernel.Length];
        for (var c = 0; c < channels; c++)
        {
            var span = kernel.AsSpan(c * perChannel, perChannel);
            var largest = 0f;
            foreach (var w in span) largest = Math.Max(largest, Math.Abs(w));
            var scale = largest > 0 ? largest / 127f : 1f;
            weightScales[c] = scale;
            for (var i = 0; i < perChannel; i++)
                quantized[c * perChannel + i] = (byte)(sbyte)Math.Clamp((int)MathF.Round(span[i] / scale), -127, 127);
        }
        Replace(graph, initializers, weight, Tensor(weight.Name + ".quantized", TensorProto.Types.DataType.Int8, quantized, weight.Dims));
        nodes.Add(Op("DequantizeLinear", weight.Name + "_dequantize",
            [weight.Name + ".quantized", Vector(graph, weight.Name + ".scale", weightScales), Tensor(graph, weight.Name + ".zero", TensorProto.Types.DataType.Int8, new byte[channels], channels)],
            weight.Name, Int("axis", 0)));

        if (conv.Input.Count < 3) return;
        var bias = initializers[conv.Input[2]];
        var values = Floats(bias);
        var biasScales = new float[channels];
        var integers = new int[channels];
        for (var c = 0; c < channels; c++)
        {
            biasScales[c] = inputScale * weightScales[c];
            integers[c] = (int)Math.Clamp(Math.Round(values[c] / biasScales[c]), int.MinValue + 1, int.MaxValue);
        }
        var bytes = new byte[channels * sizeof(int)];
        Buffer.BlockCopy(integers, 0, bytes, 0, bytes.Length);
        Replace(graph, initializers, bias, Tensor(bias.Name + ".quantized", TensorProto.Types.DataType.Int32, bytes, bias.Dims));
        nodes.Add(Op("DequantizeLinear", bias.Name + "_dequantize",
            [bias.Name + ".quantized", Vector(graph, bias.Name + ".scale", biasScales), Tensor(graph, bias.Name + ".zero", TensorProto.Types.DataType.Int32, new byte[bytes.Length], channels)],
            bias.Name, Int("axis", 0)));
    }

    private static float[] Floats(TensorProto t)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float) throw new ArgumentException($"Initializer '{t.Name}' is not float32.");
        if (t.RawData.Length == 0) return [.. t.FloatData];
        var values = new float[t.RawData.Length / sizeof(float)];
        Buffer.BlockCopy(t.RawData.ToByteArray(), 0, values, 0, t.RawData.Length);
        return values;
    }

    private static void Replace(GraphProto graph, Dictionary<string, TensorProto> initializers, TensorProto old, TensorProto replacement)
    {
        graph.Initializer.Remove(old);
        initializers.Remove(old.Name);
        graph.Initializer.Add(replacement);
    }

    private static NodeProto Op(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static string Scalar(GraphProto graph, string name, float value) => Add(graph, Tensor(name, TensorProto.Types.DataType.Float, BitConverter.GetBytes(value)));

    private static string ZeroPoint(GraphProto graph, string name, byte value) => Add(graph, Tensor(name, TensorProto.Types.DataType.Uint8, [value]));

    private static string Vector(GraphProto graph, string name, float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Add(graph, Tensor(name, TensorProto.Types.DataType.Float, bytes, [values.Length]));
    }

    private static string Tensor(GraphProto graph, string name, TensorProto.Types.DataType type, byte[] raw, long length) =>
        Add(graph, Tensor(name, type, raw, [length]));

    private static string Add(GraphProto graph, TensorProto tensor)
    {
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    private static TensorProto Tensor(string name, TensorProto.Types.DataType type, byte[] raw, IEnumerable<long>? dims = null)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        if (dims is not null) tensor.Dims.AddRange(dims);
        return tensor;
    }
}
