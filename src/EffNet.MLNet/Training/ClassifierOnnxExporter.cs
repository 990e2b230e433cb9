using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using Onnx;

namespace EffNet.MLNet.Training;

/// <summary>
/// Writes a trained image classifier (a model <c>.zip</c> made by <c>effnet train</c> or
/// <see cref="ImageClassifierTrainer.Train"/>) as one ONNX graph that any ONNX runtime runs:
/// the EfficientNet featurizer, the feature normaliser and the trained head.
/// </summary>
/// <remarks>
/// Input <c>pixels</c>: float32 [N, 3, S, S], RGB in 0…255, as ML.NET's <c>ExtractPixels</c>
/// gives them after the model's <c>ResizeImages</c> (isotropic resize and centre crop to S×S;
/// S is recorded in the metadata as <c>effnet.input_size</c>). Outputs <c>scores</c>: float32
/// [N, K], the values of the ML.NET model's <c>Score</c> column; and <c>predicted_index</c>:
/// int64 [N], the index of the highest score, into the labels stored as a JSON array under the
/// metadata key <c>labels</c>. The head is converted with Microsoft.ML.OnnxConverter, so every
/// trainer of <see cref="TrainerKind"/> is covered.
/// </remarks>
public static class ClassifierOnnxExporter
{
    /// <summary>Name of the graph input.</summary>
    public const string InputName = "pixels";

    /// <summary>Name of the score output, [N, K].</summary>
    public const string ScoresName = "scores";

    /// <summary>Name of the predicted class index output, [N].</summary>
    public const string PredictedIndexName = "predicted_index";

    /// <summary>Name of a multi-label model's only output, [N, K]: its <c>Probability</c> vector (thresholds stay in model.json).</summary>
    public const string ProbabilitiesName = "probabilities";

    /// <summary>Metadata key of the class labels (a JSON array of strings, in score order).</summary>
    public const string LabelsKey = "labels";

    private const string FeaturizerStage = "TransformerChain/Transform_000/";

    /// <summary>Build the ONNX model of the trained classifier saved at <paramref name="modelPath"/>.</summary>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable model made by this library's trainer.</exception>
    public static ModelProto Build(MLContext ml, string modelPath)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(modelPath);
        var model = SavedModel.Load(ml, modelPath);
        var multiLabel = IsMultiLabel(ml, model);
        if (model is not TransformerChain<ITransformer> chain || (multiLabel ? chain.Count() < 3 : chain.Count() != 3))
            throw new InvalidDataException($"'{modelPath}' is not an image classifier made by effnet train (expected featurizer → classifier → label mapping).");
        var stages = chain.ToList();

        var featurizer = Batched(ReadFeaturizerGraph(modelPath));
        var pixels = featurizer.Graph.Input.Single(i => featurizer.Graph.Initializer.All(t => t.Name != i.Name));
        var features = featurizer.Graph.Output.Single();
        var dimension = (int)features.Type.TensorType.Shape.Dim[1].DimValue;
        var inputSize = (int)pixels.Type.TensorType.Shape.Dim[2].DimValue;

        var labels = Labels(ml, model, multiLabel ? MultiLabel.MultiLabelTrainer.ProbabilityColumn : "Score");
        // A multi-label head is everything after the featurizer: normaliser, a classifier per label, the concatenation.
        var head = ConvertHead(ml, multiLabel ? new TransformerChain<ITransformer>([.. stages.Skip(1)]) : stages[1], features.Name, dimension, modelPath);
        var merged = Merge(featurizer, head, pixels.Name, features.Name, labels.Count, multiLabel);

        void Put(string key, string value) => merged.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        foreach (var entry in featurizer.MetadataProps.Where(e => e.Key != "effnet.input_size"))
            merged.MetadataProps.Add(entry.Clone());
        Put(LabelsKey, JsonSerializer.Serialize(labels));
        Put("effnet.input_size", inputSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Put("effnet.preprocessing", $"ML.NET ResizeImages({inputSize}, {inputSize}, IsoCrop, Center) then ExtractPixels: planar RGB 0-255");
        Put("effnet.source_model", Path.GetFileName(modelPath));
        return merged;
    }

    /// <summary>
    /// Build the ONNX model and write it to <paramref name="onnxPath"/>, and its labels, input size and exact
    /// preprocessing as JSON to <see cref="SidecarPath"/> (for runtimes that cannot read ONNX metadata), each
    /// through a temporary file.
    /// </summary>
    /// <inheritdoc cref="Build" path="/exception"/>
    public static void Save(MLContext ml, string modelPath, string onnxPath)
    {
        ArgumentNullException.ThrowIfNull(onnxPath);
        var onnx = Build(ml, modelPath);
        var bytes = onnx.ToByteArray();
        AtomicFile.Write(onnxPath, stream => stream.Write(bytes));
        var sidecar = ClassifierSidecar.Build(onnx, Path.GetFileName(onnxPath));
        AtomicFile.Write(SidecarPath(onnxPath), stream => stream.Write(sidecar));
    }

    /// <summary>
    /// Where <see cref="Save"/> writes the JSON beside <paramref name="onnxPath"/>: its name with <c>.json</c> added
    /// (<c>classifier.onnx.json</c>), never <c>model.json</c>, which belongs to a <c>model.zip</c> of the same stem.
    /// </summary>
    public static string SidecarPath(string onnxPath) => onnxPath + ".json";

    /// <summary>The featurizer graph exactly as the saved model's ApplyOnnxModel runs it.</summary>
    private static ModelProto ReadFeaturizerGraph(string modelPath)
    {
        using var zip = ZipFile.OpenRead(modelPath);
        var entries = zip.Entries.Where(e => e.FullName.StartsWith(FeaturizerStage, StringComparison.Ordinal) && e.Name == "OnnxModel").ToList();
        if (entries.Count != 1)
            throw new InvalidDataException($"'{modelPath}' holds {entries.Count} ONNX featurizer graphs where one was expected; is it a model made by effnet train?");
        using var stream = entries[0].Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        // ML.NET stores the graph as a length-prefixed byte array.
        if (bytes.Length < 4 || BinaryPrimitives.ReadInt32LittleEndian(bytes) != bytes.Length - 4)
            throw new InvalidDataException($"'{modelPath}': the featurizer graph entry '{entries[0].FullName}' is damaged.");
        return ModelProto.Parser.ParseFrom(bytes[4..].ToArray());
    }

    /// <summary>
    /// The saved graph runs one image at a time with a flat [D] output (what ApplyOnnxModel needs);
    /// give it a batch dimension again: [N, 3, S, S] → [N, D].
    /// </summary>
    private static ModelProto Batched(ModelProto single)
    {
        var model = single.Clone();
        var graph = model.Graph;
        var input = graph.Input.Single(i => graph.Initializer.All(t => t.Name != i.Name));
        input.Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        var output = graph.Output.Single();
        var flatten = graph.Node.Single(n => n.Output.Contains(output.Name));
        if (flatten.OpType != "Reshape")
            throw new InvalidDataException($"The featurizer graph ends in '{flatten.OpType}' where the single-image Reshape was expected.");
        var shape = graph.Initializer.Single(t => t.Name == flatten.Input[1]);
        var dimension = shape.Int64Data.Single();
        shape.Dims.Clear();
        shape.Dims.Add(2);
        shape.Int64Data.Clear();
        shape.Int64Data.Add(-1);
        shape.Int64Data.Add(dimension);
        output.Type.TensorType.Shape.Dim.Clear();
        output.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        output.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dimension });
        return model;
    }

    /// <summary>The normaliser and trainer, converted by ML.NET's own ONNX converter on a [D] feature column.</summary>
    private static ModelProto ConvertHead(MLContext ml, ITransformer head, string featureColumn, int dimension, string modelPath)
    {
        var definition = SchemaDefinition.Create(typeof(FeatureRow));
        definition[nameof(FeatureRow.Features)].ColumnName = featureColumn;
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        var input = ml.Data.LoadFromEnumerable(Array.Empty<FeatureRow>(), definition);
        using var stream = new MemoryStream();
        try
        {
            ml.Model.ConvertToOnnx(head, input, stream);
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or NotImplementedException or ArgumentException)
        {
            throw new InvalidDataException($"The classifier in '{modelPath}' cannot be converted to ONNX: {ex.Message}", ex);
        }
        return ModelProto.Parser.ParseFrom(stream.ToArray());
    }

    private static ModelProto Merge(ModelProto featurizer, ModelProto head, string pixelsName, string featuresName, int classes, bool multiLabel)
    {
        var graph = featurizer.Graph.Clone();
        graph.Name = "effnet_classifier";
        var headGraph = head.Graph.Clone();
        // Keep the head's names apart from the backbone's; its feature input joins the featurizer's output.
        string Rename(string name) => name.Length == 0 || name == featuresName ? name : "head/" + name;
        foreach (var node in headGraph.Node)
        {
            node.Name = "head/" + node.Name;
            for (var i = 0; i < node.Input.Count; i++) node.Input[i] = Rename(node.Input[i]);
            for (var i = 0; i < node.Output.Count; i++) node.Output[i] = Rename(node.Output[i]);
            graph.Node.Add(node);
        }
        foreach (var tensor in headGraph.Initializer)
        {
            tensor.Name = Rename(tensor.Name);
            graph.Initializer.Add(tensor);
        }
        var sourceColumn = multiLabel ? MultiLabel.MultiLabelTrainer.ProbabilityColumn : "Score";
        var score = headGraph.Output.FirstOrDefault(o => o.Name.StartsWith(sourceColumn, StringComparison.Ordinal))
            ?? throw new InvalidDataException($"The converted classifier has no {sourceColumn} output.");

        var outputName = multiLabel ? ProbabilitiesName : ScoresName;
        var identity = new NodeProto { OpType = "Identity", Name = outputName };
        identity.Input.Add(Rename(score.Name));
        identity.Output.Add(outputName);
        graph.Node.Add(identity);
        if (!multiLabel)
        {
            var argmax = new NodeProto { OpType = "ArgMax", Name = PredictedIndexName };
            argmax.Input.Add(ScoresName);
            argmax.Output.Add(PredictedIndexName);
            argmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            argmax.Attribute.Add(new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
            graph.Node.Add(argmax);
        }

        var pixels = graph.Input.Single(i => i.Name == pixelsName);
        pixels.Name = InputName;
        foreach (var node in graph.Node)
            for (var i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == pixelsName) node.Input[i] = InputName;
        graph.Output.Clear();
        graph.Output.Add(Tensor(outputName, TensorProto.Types.DataType.Float, "N", classes));
        if (!multiLabel) graph.Output.Add(Tensor(PredictedIndexName, TensorProto.Types.DataType.Int64, "N"));
        graph.ValueInfo.Clear();
        Prune(graph);
        RefuseRenamedSignatures(graph, head);
        // Checkers' shape inference does not know TreeEnsembleRegressor-1's output; declare it (float [N, targets]).
        foreach (var tree in graph.Node.Where(n => n.OpType == "TreeEnsembleRegressor"))
            graph.ValueInfo.Add(Tensor(tree.Output[0], TensorProto.Types.DataType.Float, "N",
                tree.Attribute.Single(a => a.Name == "n_targets").I));

        var merged = new ModelProto
        {
            IrVersion = Math.Max(featurizer.IrVersion, head.IrVersion),
            ProducerName = "EffNet.MLNet",
            ProducerVersion = typeof(ClassifierOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = multiLabel
                ? "EfficientNet multi-label image classifier: pixels [N,3,S,S] RGB 0-255 → probabilities [N,K]; labels in metadata 'labels', thresholds in the model's model.json."
                : "EfficientNet image classifier: pixels [N,3,S,S] RGB 0-255 → scores [N,K], predicted_index [N]; labels in metadata 'labels'.",
            Graph = graph,
        };
        foreach (var domain in featurizer.OpsetImport.Concat(head.OpsetImport).GroupBy(o => o.Domain == "ai.onnx" ? "" : o.Domain))
            merged.OpsetImport.Add(new OperatorSetIdProto { Domain = domain.Key, Version = domain.Max(o => o.Version) });
        return merged;
    }

    /// <summary>Drop every node and initializer the outputs do not need (the converter's label decoding, pass-through columns).</summary>
    private static void Prune(GraphProto graph)
    {
        var needed = new HashSet<string>(graph.Output.Select(o => o.Name));
        var kept = new List<NodeProto>();
        foreach (var node in graph.Node.Reverse())
        {
            if (!node.Output.Any(needed.Contains)) continue;
            kept.Add(node);
            foreach (var input in node.Input) needed.Add(input);
        }
        kept.Reverse();
        graph.Node.Clear();
        graph.Node.AddRange(kept);
        var initializers = graph.Initializer.Where(t => needed.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        var inputs = graph.Input.Where(i => needed.Contains(i.Name)).ToList();
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
    }

    // The converter writes opset ≤ 12; the merged graph declares the featurizer's (17). These
    // operators changed their inputs at opset 13, so a head that still uses one would be misread.
    private static readonly HashSet<string> ChangedAtOpset13 = ["Squeeze", "Unsqueeze", "ReduceSum", "Split"];

    private static void RefuseRenamedSignatures(GraphProto graph, ModelProto head)
    {
        var headOpset = head.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        var changed = graph.Node.Where(n => n.Name.StartsWith("head/", StringComparison.Ordinal) && n.Domain.Length == 0 && ChangedAtOpset13.Contains(n.OpType)).ToList();
        if (headOpset < 13 && changed.Count > 0)
            throw new InvalidDataException($"The converted classifier uses {changed[0].OpType} at opset {headOpset}, which the merged graph (opset 13 or later) would read differently.");
    }

    private static ValueInfoProto Tensor(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    // A multi-label model (MultiLabelTrainer) ends in a Probability vector and has no Score or PredictedLabel.
    private static bool IsMultiLabel(MLContext ml, ITransformer model)
    {
        var schema = model.GetOutputSchema(ImageClassifierTrainer.InputSchema(ml));
        return schema.GetColumnOrNull("Score") is null && schema.GetColumnOrNull(MultiLabel.MultiLabelTrainer.ProbabilityColumn) is { Type: VectorDataViewType };
    }

    private static List<string> Labels(MLContext ml, ITransformer model, string column)
    {
        var schema = model.GetOutputSchema(ImageClassifierTrainer.InputSchema(ml));
        VBuffer<ReadOnlyMemory<char>> names = default;
        schema[column].GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToList();
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }
}
