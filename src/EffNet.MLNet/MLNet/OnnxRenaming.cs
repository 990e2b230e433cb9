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
}
