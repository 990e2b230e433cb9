namespace EffNet.MLNet.FineTuning;

/// <summary>
/// Where training batches come from: pixels as float 0…255 RGB NCHW at the training resolution
/// (the graph normalises, as the inference graph does) and class indices. Deterministic for an
/// (epoch, batch) pair, so a resumed run sees what an uninterrupted one would.
/// </summary>
internal interface ITrainingBatches
{
    /// <summary>Batches per epoch.</summary>
    int Count { get; }

    /// <summary>Images in batch <paramref name="batchIndex"/> (the last may be smaller).</summary>
    int Size(int batchIndex);

    /// <summary>Fill the first <see cref="Size"/> images of batch <paramref name="batchIndex"/> of <paramref name="epoch"/>.</summary>
    void Fill(int epoch, int batchIndex, Span<float> pixelsNchw0To255, Span<long> labels);
}
