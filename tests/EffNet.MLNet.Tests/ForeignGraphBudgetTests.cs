using System.Diagnostics;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;
using Google.Protobuf;
using Onnx;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Bring-your-own ONNX graphs whose intermediate tensors would take gigabytes though they declare nothing:
/// the adapter works out every tensor's size for one image from the file and refuses the graph, naming the
/// file, the node and the op, before ONNX Runtime loads it. Each graph is a tiny classifier built here
/// (input [N, 3, 224, 224] → body → GlobalAveragePool → Flatten → Gemm).
/// </summary>
public class ForeignGraphBudgetTests
{
    private static string WriteClassifier(TempDir dir, string name, Func<OnnxGraphBuilder, string, string> body)
    {
        var g = new OnnxGraphBuilder(name);
        g.Input("x", "batch", 3, 224, 224);
        var y = body(g, "x");
        var pooled = g.Node("GlobalAveragePool", "pool", [y]);
        var flat = g.Node("Flatten", "flatten", [pooled], OnnxGraphBuilder.Int("axis", 1));
        var scores = g.Node("Gemm", "classifier", [flat, g.Initializer("classifier_w", new float[3 * 10], 3, 10)]);
        g.Output(scores, "batch", 10);
        var model = new ModelProto { IrVersion = 8, Graph = g.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        var path = dir.File(name + ".onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    private static string Resizes(OnnxGraphBuilder g, string x, int count, float scale)
    {
        var scales = g.Initializer("scales", [1f, 1f, scale, scale], 4);
        for (var i = 0; i < count; i++) x = g.Node("Resize", $"resize_{i}", [x, "", scales], OnnxGraphBuilder.Text("mode", "nearest"));
        return x;
    }

    // Mutation: ForeignGraphShapes' Resize case returning its input's shape -> no tensor passes the budget, the
    // fifty Resize ops are adapted (and would take gigabytes in ONNX Runtime) -> fails.
    [Fact]
    public void Fifty_chained_resizes_are_refused_naming_the_file_the_node_and_the_op_in_a_moment()
    {
        using var dir = new TempDir();
        var path = WriteClassifier(dir, "resizes", (g, x) => Resizes(g, x, 50, 2f));
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(path, s => s));
        Assert.Contains("resizes.onnx", ex.Message);
        // 224 doubled four times is 3,584: [1, 3, 3584, 3584] fits 256 MiB; the fifth, [1, 3, 7168, 7168], does not.
        Assert.Contains("node 'resize_4' (Resize) makes tensor 'resize_4' of shape [1, 3, 7168, 7168] for one image (616,562,688 bytes), more than the 268,435,456 bytes an intermediate may take", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{clock.Elapsed}");
    }

    // Mutation: Broadcast returning its first shape -> the outer sum [1, 50176, 50176] is taken for [1, 50176, 1] -> fails.
    [Fact]
    public void A_broadcast_that_squares_a_tensor_is_refused()
    {
        using var dir = new TempDir();
        var path = WriteClassifier(dir, "outer", (g, x) =>
        {
            var column = g.Node("Reshape", "as_column", [x, g.Int64Initializer("column_shape", 1, 3 * 224 * 224, 1)]);
            var row = g.Node("Reshape", "as_row", [x, g.Int64Initializer("row_shape", 1, 1, 3 * 224 * 224)]);
            var outer = g.Node("Add", "outer_sum", [column, row]);
            return g.Node("Reshape", "back", [outer, g.Int64Initializer("back_shape", 1, 3, -1, 224)]);
        });
        var ex = Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(path, s => s));
        Assert.Contains("node 'outer_sum' (Add) makes tensor 'outer_sum' of shape [1, 150528, 150528]", ex.Message);
    }

    // Mutation: the default case of Infer returning a Loop's first input's shape -> the Loop passes -> fails.
    [Fact]
    public void Ops_whose_size_cannot_be_worked_out_are_refused_by_name_and_sizes_computed_at_run_time_too()
    {
        using var dir = new TempDir();
        var loop = WriteClassifier(dir, "loop", (g, x) => g.Node("Loop", "forever", [x]));
        Assert.Contains("node 'forever' (Loop) is an op whose output size the adapter cannot work out", Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(loop, s => s)).Message);

        // The target size of a Resize read from the image itself (ReduceMax of the pixels): known only at run time.
        var dynamic = WriteClassifier(dir, "dynamic", (g, x) =>
        {
            var max = g.Node("ReduceMax", "brightest", [x], OnnxGraphBuilder.Int("keepdims", 0));
            var size = g.Node("Cast", "as_size", [max], OnnxGraphBuilder.Int("to", 7));
            var sizes = g.Node("Concat", "sizes", [g.Int64Initializer("one_three", 1, 3), g.Node("Unsqueeze", "s1", [size, g.Int64Initializer("axis0", 0)]), g.Node("Unsqueeze", "s2", [size, "axis0"])], OnnxGraphBuilder.Int("axis", 0));
            return g.Node("Resize", "by_data", [x, "", "", sizes]);
        });
        var ex = Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(dynamic, s => s));
        Assert.Contains("node 'by_data' (Resize) takes its 'sizes' from data computed at run time", ex.Message);
    }

    // Mutation: MaxIntermediateBytes = 1 << 20 -> B0's stem output ([1, 32, 112, 112], 1.6 MB) is refused -> fails.
    [Fact]
    public void A_modest_resize_and_this_librarys_own_b0_graph_are_accepted()
    {
        using var dir = new TempDir();
        var once = WriteClassifier(dir, "once", (g, x) => Resizes(g, x, 1, 2f));
        Assert.Equal(3, ForeignModelAdapter.Adapt(once, s => s).FeatureDimension);

        var a = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var b0 = dir.File("b0.onnx");
        File.WriteAllBytes(b0, EfficientNetOnnxExporter.Build(a, RandomWeights.Create(a, 1)).ToByteArray());
        Assert.Equal(1280, ForeignModelAdapter.Adapt(b0, s => s).FeatureDimension);
    }
}
