namespace EffNet.MLNet.FineTuning;

/// <summary>One epoch of fine-tuning, as reported and recorded in model.json.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="Loss">Mean training loss (label-smoothed cross-entropy).</param>
/// <param name="Accuracy">Training accuracy of the batches as they were trained.</param>
/// <param name="ImagesPerSecond">Training throughput of the epoch.</param>
/// <param name="Seconds">Duration of the epoch.</param>
/// <param name="RemainingSeconds">Estimated time to the last epoch.</param>
public sealed record FineTuneEpoch(int Epoch, double Loss, double Accuracy, double ImagesPerSecond, double Seconds, double RemainingSeconds)
{
    /// <summary>Loss on the validation split (evaluation mode), or null without one.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>Accuracy on the validation split, or null without one.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>The validation loss was the lowest so far, so these weights were saved (the last such epoch is the one kept).</summary>
    public bool Improved { get; init; }
}
