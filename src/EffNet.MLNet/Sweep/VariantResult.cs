namespace EffNet.MLNet.Sweep;

/// <summary>One variant of a sweep: its accuracy on the user's data, its cost on this machine, and its size.</summary>
/// <param name="Variant">The variant as given (<c>b0</c>, <c>phi=0.5</c>, …).</param>
/// <param name="Resolution">Side of the image the network sees.</param>
/// <param name="Parameters">Parameters of the feature extractor (no classifier head).</param>
/// <param name="MultiplyAdds">Multiply-adds of one image through the feature extractor at <paramref name="Resolution"/>.</param>
/// <param name="FeatureDimension">Length of the feature vector.</param>
public sealed record VariantResult(string Variant, int Resolution, long Parameters, long MultiplyAdds, int FeatureDimension)
{
    /// <summary>Why the variant was not evaluated (time budget, cost estimate); null when it was.</summary>
    public string? Skipped { get; init; }

    /// <summary>Accuracy (share of images right) on each held-out fold, in fold order.</summary>
    public IReadOnlyList<double> FoldAccuracies { get; init; } = [];

    /// <summary>Mean accuracy over the folds, with its 95% interval; null when skipped.</summary>
    public FoldStatistics? Accuracy { get; init; }

    /// <summary>Milliseconds for one image through the network at batch 1 (median of the timed runs; decoding excluded).</summary>
    public double? MillisecondsPerImage { get; init; }

    /// <summary>Images per second through the network in batches of the sweep's batch size (decoding excluded).</summary>
    public double? ImagesPerSecond { get; init; }

    /// <summary>Images featurized for this variant in this sweep.</summary>
    public int FeaturizedImages { get; init; }

    /// <summary>Images whose features came from the feature cache.</summary>
    public int CacheHits { get; init; }

    /// <summary>Wall-clock seconds spent on the variant (featurizing, cross-validating, measuring).</summary>
    public double Seconds { get; init; }

    /// <summary>With int8: what its int8 check measured (a fall-back means this variant was swept in fp32).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Int8Fidelity? Int8Check { get; init; }

    /// <summary>Whether the variant was evaluated.</summary>
    public bool Completed => Skipped is null && Accuracy is not null && MillisecondsPerImage is not null;
}
