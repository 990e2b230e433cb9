using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.FineTuning.Data;

/// <summary>The less common settings of <see cref="TrainingBatches"/>.</summary>
internal sealed record TrainingBatchesOptions
{
    /// <summary>A new seeded order each epoch (training); false keeps the list's order (validation).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Leave out the last, smaller batch (PyTorch's <c>drop_last</c>). Off: every image is seen each epoch.</summary>
    public bool DropLast { get; init; }

    /// <summary>Images decoded and augmented at once. Results do not depend on it.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Decoded images kept in memory up to this many bytes; the rest are decoded again each epoch.</summary>
    public long CacheBytes { get; init; } = 1L << 30;

    /// <summary>The working image's shorter side as a multiple of the output side (augmented presets crop from it).</summary>
    public double WorkingScale { get; init; } = 1.25;

    /// <summary>Use a truncated image's decoded rows instead of refusing it.</summary>
    public bool AcceptTruncated { get; init; }

    /// <summary>Refuse images that declare more pixels than this (decompression bombs).</summary>
    public long MaxPixels { get; init; } = ImageCheck.DefaultMaxPixels;
}
