using EffNet.MLNet.Onnx.Quantization;
using Google.Protobuf;
using Onnx;

namespace EffNet.MLNet;

/// <summary>
/// Scores an int8 graph against the float graph on held-out images and, while the target is missed,
/// keeps in float the blocks whose quantization costs the most. Sensitivity is measured, not assumed:
/// each block is dequantized alone (every other block int8) and the held-out cosines measured; blocks are
/// then kept in float in order of that gain, one more at a time, measuring again, until the target is
/// met or the budget is spent. That costs one int8 run over the held-out images per block plus one per
/// block kept (B0: 12 + k), rather than a full greedy search's 12 per block kept.
/// </summary>
internal static class Int8FidelityCheck
{
    public const string Method =
        "held out: a seeded quarter of the calibration images (at least one); sensitivity: each quantized block dequantized alone, " +
        "scored on the held-out images; blocks kept in float in order of that gain until the target is met";

    /// <summary>The outcome: the int8 graph to use (null: fall back to float32), its blocks in float, and the figures.</summary>
    public sealed record Outcome(ModelProto? Graph, IReadOnlyList<string> FloatBlocks, FeatureCosines Chosen, FeatureCosines AllInt8, int Candidates);

    public static Outcome Run(ModelProto floatGraph, IReadOnlyDictionary<string, ActivationRange> ranges, IReadOnlyList<float[]> heldOut,
        Int8Target target, string calibration, CancellationToken cancellationToken)
    {
        var reference = Features(floatGraph, heldOut);
        (ModelProto Graph, FeatureCosines Cosines) Measure(IReadOnlyCollection<string> floatBlocks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var graph = Int8Quantizer.Apply(floatGraph, ranges, floatBlocks, calibration);
            return (graph, FeatureCosines.Of(Features(graph, heldOut), reference));
        }

        var blocks = QuantizationLayout.Blocks(floatGraph.Graph).ToList();
        var (allInt8Graph, allInt8) = Measure([]);
        if (allInt8.Meets(target)) return new Outcome(allInt8Graph, [], allInt8, allInt8, blocks.Count);
        var budget = Math.Min(target.MaxFloatLayers, blocks.Count);
        if (budget == 0) return new Outcome(null, [], allInt8, allInt8, blocks.Count);

        var alone = blocks.Select(b => (Block: b, Result: Measure([b]))).ToList();
        var order = alone.OrderByDescending(a => a.Result.Cosines.Slack(target)).ThenBy(a => blocks.IndexOf(a.Block)).Select(a => a.Block).ToList();
        var best = alone.First(a => a.Block == order[0]).Result;
        for (var kept = 1; ; kept++)
        {
            if (best.Cosines.Meets(target)) return new Outcome(best.Graph, order.Take(kept).ToList(), best.Cosines, allInt8, blocks.Count);
            if (kept == budget) return new Outcome(null, [], best.Cosines, allInt8, blocks.Count);
            best = Measure(order.Take(kept + 1).ToList());
        }
    }

    private static List<float[]> Features(ModelProto graph, IReadOnlyList<float[]> images)
    {
        using var session = new FeatureSession(graph.ToByteArray(), intraOpThreads: 0);
        return images.Select(image => session.Run(image, 1)).ToList();
    }
}
