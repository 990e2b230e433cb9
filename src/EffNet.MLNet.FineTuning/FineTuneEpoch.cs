namespace EffNet.MLNet.FineTuning;

/// <summary>One epoch of fine-tuning, as reported and recorded in model.json.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="Loss">Mean training loss (label-smoothed cross-entropy).</param>
/// <param name="Accuracy">Training accuracy of the batches as they were trained.</param>
/// <param name="ImagesPerSecond">Training throughput of the epoch.</param>
/// <param name="Seconds">Duration of the epoch.</param>
/// <param name="RemainingSeconds">Estimated time to the last epoch.</param>
public sealed record FineTuneEpoch(int Epoch, double Loss, double Accuracy, double ImagesPerSecond, double Seconds, double RemainingSeconds);
