namespace EffNet.MLNet.Sweep;

/// <summary>What a sweep is doing now, for a progress display.</summary>
/// <param name="Variant">The variant.</param>
/// <param name="Index">Its position in the sweep (0-based), smallest first.</param>
/// <param name="Count">Variants in the sweep.</param>
/// <param name="Stage">What is happening to it.</param>
/// <param name="Done">Images featurized so far (while featurizing), folds done (while cross-validating).</param>
/// <param name="Total">Images or folds in all.</param>
/// <param name="Result">The finished (or skipped) result, at <see cref="SweepStage.Finished"/> and <see cref="SweepStage.Skipped"/>.</param>
public sealed record SweepProgress(string Variant, int Index, int Count, SweepStage Stage, int Done, int Total, VariantResult? Result = null);

/// <summary>Stages of one variant in a sweep.</summary>
public enum SweepStage
{
    /// <summary>Building the network (and loading or downloading its weights).</summary>
    Preparing,
    /// <summary>Turning images into features, through the feature cache.</summary>
    Featurizing,
    /// <summary>Fitting and scoring the linear probe on each fold.</summary>
    CrossValidating,
    /// <summary>Timing single-image and batch runs.</summary>
    Measuring,
    /// <summary>Done; <see cref="SweepProgress.Result"/> holds the result.</summary>
    Finished,
    /// <summary>Not evaluated; <see cref="VariantResult.Skipped"/> says why.</summary>
    Skipped,
}
