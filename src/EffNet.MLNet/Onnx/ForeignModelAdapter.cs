using EffNet.MLNet.Weights;
using Onnx;

namespace EffNet.MLNet.Onnx;

/// <summary>
/// Turns an EfficientNet classifier exported elsewhere (torchvision's <c>torch.onnx.export</c>,
/// timm, or this library's own featurizer) into a featurizer with this library's contract:
/// the classifier (the Gemm or MatMul producing the output) is cut off and the pooled features
/// feeding it become the output <c>features</c>; the input becomes <c>pixels</c> [N, 3, S, S]
/// RGB 0…255 with centre crop, ImageNet normalisation and, for NHWC models, a transpose in front.
/// </summary>
internal static class ForeignModelAdapter
{
    /// <summary>The adapted graph and what was found out about the original.</summary>
    /// <param name="Graph">pixels → features.</param>
    /// <param name="FeatureDimension">Length of the feature vector.</param>
    /// <param name="ModelInputSize">Side of the square the original model takes.</param>
    /// <param name="Findings">What was detected or assumed, for the user.</param>
    public sealed record Result(ModelProto Graph, int FeatureDimension, int ModelInputSize, IReadOnlyList<string> Findings);

    /// <summary>Adapt the model at <paramref name="path"/>; images arrive as squares of <paramref name="inputSizeForModelSide"/>(model side), whose centre is cropped.</summary>
    /// <exception cref="CheckpointFormatException">The file is not ONNX, or its input, output or classifier could not be determined.</exception>
    /// <exception cref="CheckpointFormatException">Also: a tensor declares more than the budget of <see cref="ForeignModelChecks"/>, or keeps its data in another file and <paramref name="allowExternalData"/> is false or the file is not beside the model.</exception>
    public static Result Adapt(string path, Func<int, int> inputSizeForModelSide, bool allowExternalData = false)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The ONNX model '{path}' does not exist.", path);
        ForeignModelChecks.CheckFile(path);
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)); }
        catch (Exception ex) when (ex is Google.Protobuf.InvalidProtocolBufferException or InvalidOperationException or ArgumentException)
        {
            throw new CheckpointFormatException(path, $"this is not an ONNX model, or it is truncated ({ex.Message}).", ex);
        }
        ForeignModelChecks.Check(path, model, allowExternalData);
        var graph = model.Graph ?? throw new CheckpointFormatException(path, "the ONNX file has no graph.");
        if (graph.Node.Count == 0) throw new CheckpointFormatException(path, "the ONNX graph has no nodes.");
        var findings = new List<string>();

        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
            throw new CheckpointFormatException(path, $"the model has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); expected one image input.");
        var input = inputs[0];
        var dims = input.Type?.TensorType?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1).ToArray() ?? [];
        bool nhwc;
        long side;
        if (dims.Length == 4 && dims[1] == 3 && dims[2] > 0 && dims[2] == dims[3]) { nhwc = false; side = dims[2]; }
        else if (dims.Length == 4 && dims[3] == 3 && dims[1] > 0 && dims[1] == dims[2]) { nhwc = true; side = dims[1]; }
        else
            throw new CheckpointFormatException(path,
                $"could not determine the image layout from input '{input.Name}' with shape [{string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]; " +
                "expected [N, 3, S, S] or [N, S, S, 3] with a fixed square size S. Re-export with a fixed height and width.");
        findings.Add($"input '{input.Name}': {(nhwc ? "NHWC" : "NCHW")}, {side}×{side}");

        var ours = model.MetadataProps.Any(p => p.Key == "effnet.input_range");
        var (features, dimension) = ours ? OwnOutput(graph) : FindPooledFeatures(path, graph, findings);
        var keep = NodesNeededFor(graph, features);
        // Even a graph marked as this library's own: the mark is three words anyone can write.
        ForeignGraphShapes.Check(path, graph, graph.Node.Where(keep.Contains), input.Name, nhwc ? [1, side, side, 3] : [1, 3, side, side]);

        var g = new OnnxGraphBuilder(graph.Name + "_features");
        var size = inputSizeForModelSide((int)side);
        g.Input(EfficientNetOnnxExporter.InputName, "batch", 3, size, size);
        var x = EfficientNetOnnxExporter.InputName;
        if (size > side) x = g.CenterCrop(x, "adapter_center_crop", size, side);
        if (ours)
        {
            findings.Add("an EffNet.MLNet featurizer: takes RGB 0…255 and normalises inside");
        }
        else
        {
            findings.Add("assumed ImageNet mean/std normalisation of RGB in 0…1 (the torchvision and timm convention)");
            var mean = FeatureExtractorOptions.ImageNetMean;
            var std = FeatureExtractorOptions.ImageNetStd;
            x = g.Node("Add", "adapter_shift", [x, g.Initializer("adapter_shift_value", mean.Select(m => -255f * m).ToArray(), 1, 3, 1, 1)]);
            x = g.Node("Mul", "adapter_scale", [x, g.Initializer("adapter_scale_value", std.Select(s => 1f / (255f * s)).ToArray(), 1, 3, 1, 1)]);
        }
        if (nhwc) x = g.Node("Transpose", "adapter_to_nhwc", [x], OnnxGraphBuilder.Ints("perm", 0, 2, 3, 1));
        g.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = "adapter_input", Input = { x }, Output = { input.Name } });

        foreach (var node in graph.Node.Where(keep.Contains)) g.Graph.Node.Add(node);
        var used = g.Graph.Node.SelectMany(n => n.Input).ToHashSet();
        g.Graph.Initializer.AddRange(graph.Initializer.Where(t => used.Contains(t.Name)));
        var flat = g.Node("Flatten", EfficientNetOnnxExporter.OutputName, [features], OnnxGraphBuilder.Int("axis", 1));
        g.Output(flat, "batch", dimension);

        var adapted = new ModelProto
        {
            IrVersion = Math.Max(model.IrVersion, 7),
            ProducerName = "EffNet.MLNet (adapted)",
            DocString = $"Feature extractor adapted from {Path.GetFileName(path)}",
            Graph = g.Graph,
        };
        adapted.OpsetImport.AddRange(model.OpsetImport);
        return new Result(adapted, dimension, (int)side, findings);
    }

    private static (string Tensor, int Dimension) OwnOutput(GraphProto graph)
    {
        var output = graph.Output.Single();
        return (output.Name, (int)output.Type.TensorType.Shape.Dim[^1].DimValue);
    }

    // Walk back from the output through shape-neutral ops to the classifier; its data input is the pooled features.
    private static (string Tensor, int Dimension) FindPooledFeatures(string path, GraphProto graph, List<string> findings)
    {
        if (graph.Output.Count != 1)
            throw new CheckpointFormatException(path, $"the model has {graph.Output.Count} outputs; expected one (the class scores).");
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var tensor = graph.Output[0].Name;
        for (var step = 0; step < 8 && producers.TryGetValue(tensor, out var node); step++)
        {
            switch (node.OpType)
            {
                case "Softmax" or "LogSoftmax" or "Identity" or "Sigmoid":
                    tensor = node.Input[0];
                    continue;
                case "Add" when node.Input.Any(initializers.ContainsKey):
                    tensor = node.Input.First(i => !initializers.ContainsKey(i));
                    continue;
                case "Gemm" or "MatMul" when node.Input.Count >= 2 && initializers.TryGetValue(node.Input[1], out var weight) && weight.Dims.Count == 2:
                    var transB = node.OpType == "Gemm" && node.Attribute.Any(a => a.Name == "transB" && a.I == 1);
                    var dimension = (int)(transB ? weight.Dims[1] : weight.Dims[0]);
                    var classes = transB ? weight.Dims[0] : weight.Dims[1];
                    findings.Add($"classifier '{node.Name}' ({node.OpType}, {classes} classes) removed; features: '{node.Input[0]}' ({dimension} values)");
                    return (node.Input[0], dimension);
            }
            break;
        }
        throw new CheckpointFormatException(path,
            $"could not find the classifier: expected a Gemm or MatMul with a constant weight producing output '{graph.Output[0].Name}' (through Softmax or Add at most).");
    }

    private static HashSet<NodeProto> NodesNeededFor(GraphProto graph, string tensor)
    {
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);
        var keep = new HashSet<NodeProto>();
        var pending = new Stack<string>([tensor]);
        while (pending.Count > 0)
            if (producers.TryGetValue(pending.Pop(), out var node) && keep.Add(node))
                foreach (var i in node.Input) pending.Push(i);
        return keep;
    }
}
