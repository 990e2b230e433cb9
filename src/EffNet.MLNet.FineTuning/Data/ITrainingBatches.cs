namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// The batches of one epoch as the training engine consumes them: pixels as float RGB 0…255 in NCHW
/// (normalisation happens inside the graph, as for the inference graph's <c>pixels</c>) and the label
/// index of each image. A batch depends only on (epoch, batch index) and the source's seed, never on
/// the order batches are asked for or on how many threads fill them.
/// </summary>
internal interface ITrainingBatches
{
    /// <summary>Batches per epoch.</summary>
    int Count { get; }

    /// <summary>Images in batch <paramref name="batchIndex"/>: the full batch size, or fewer for a last partial batch.</summary>
    int SizeOf(int batchIndex);

    /// <summary>Write batch <paramref name="batchIndex"/> of <paramref name="epoch"/>: <c>SizeOf(batchIndex)</c> images and labels.</summary>
    void Fill(int epoch, int batchIndex, Span<float> pixelsNCHW, Span<int> labels);
}
