using EffNet.MLNet.FineTuning.Data;

namespace EffNet.MLNet.FineTuning.Graph;

/// <summary>
/// Draws the per-image drop-path masks of one batch: each image keeps a block's residual branch
/// with probability 1 − p, scaled by 1/(1 − p) (torchvision's StochasticDepth, "row" mode). A mask
/// depends only on (seed, epoch, batch, block), so a resumed run draws what an uninterrupted one did.
/// </summary>
internal sealed class DropPathMasks(TrainingGraph graph, int batchSize, int seed)
{
    private const ulong Stream = 0xD509_0000;
    private readonly Dictionary<string, float[]> _masks = graph.DropPaths.ToDictionary(d => d.Name, _ => new float[batchSize], StringComparer.Ordinal);

    public IReadOnlyDictionary<string, float[]> Draw(int epoch, int batchIndex, int count)
    {
        foreach (var input in graph.DropPaths)
        {
            var random = SeededRandom.For(seed, epoch, batchIndex, Stream + (ulong)input.BlockIndex);
            var keep = 1 - input.Probability;
            var mask = _masks[input.Name];
            for (var i = 0; i < count; i++) mask[i] = random.NextDouble() < keep ? (float)(1 / keep) : 0f;
        }
        return _masks;
    }
}
