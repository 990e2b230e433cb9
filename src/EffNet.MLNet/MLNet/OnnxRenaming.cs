using Onnx;

namespace EffNet.MLNet;

/// <summary>
/// Renames a graph's single input and output. ML.NET's ApplyOnnxModel binds columns to graph
/// inputs and outputs by name, so the graph embedded in a pipeline is named after its columns.
/// </summary>
internal static class OnnxRenaming
{
    public static ModelProto WithIO(ModelProto model, string inputName, string outputName)
    {
        var copy = model.Clone();
        var graph = copy.Graph;
        var oldInput = graph.Input.Single(i => graph.Initializer.All(t => t.Name != i.Name)).Name;
        var oldOutput = graph.Output.Single().Name;
        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == oldInput) node.Input[i] = inputName;
                else if (node.Input[i] == oldOutput) node.Input[i] = outputName;
            for (var i = 0; i < node.Output.Count; i++)
                if (node.Output[i] == oldOutput) node.Output[i] = outputName;
        }
        graph.Input.Single(i => i.Name == oldInput).Name = inputName;
        graph.Output[0].Name = outputName;
        return copy;
    }

    /// <summary>
    /// One image per run, with a flat [D] output: ApplyOnnxModel then yields a plain
    /// <c>Vector&lt;Single, D&gt;</c> column, which is what trainers are fitted on.
    /// </summary>
    public static ModelProto SingleImage(ModelProto model, int inputSize, int featureDimension)
    {
        var copy = model.Clone();
        var graph = copy.Graph;
        var input = graph.Input.Single(i => graph.Initializer.All(t => t.Name != i.Name));
        input.Type.TensorType.Shape.Dim[0].ClearDimParam();
        input.Type.TensorType.Shape.Dim[0].DimValue = 1;
        var output = graph.Output.Single();
        var batched = output.Name + "_batched";
        foreach (var node in graph.Node)
            for (var i = 0; i < node.Output.Count; i++)
                if (node.Output[i] == output.Name) node.Output[i] = batched;
        var shape = new TensorProto { Name = output.Name + "_flat_shape", DataType = (int)TensorProto.Types.DataType.Int64 };
        shape.Dims.Add(1);
        shape.Int64Data.Add(featureDimension);
        graph.Initializer.Add(shape);
        var reshape = new NodeProto { OpType = "Reshape", Name = output.Name + "_flat" };
        reshape.Input.Add(batched);
        reshape.Input.Add(shape.Name);
        reshape.Output.Add(output.Name);
        graph.Node.Add(reshape);
        output.Type.TensorType.Shape.Dim.Clear();
        output.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = featureDimension });
        return copy;
    }
}
