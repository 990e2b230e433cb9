namespace EffNet.MLNet.FineTuning;

/// <summary>
/// The training or validation loss stopped being a finite number: the weights diverged, usually because the
/// learning rate is too high for the batch size and data. The checkpoint of the last whole epoch is kept.
/// </summary>
public sealed class FineTuningDivergedException : Exception
{
    /// <summary>A divergence described by <paramref name="message"/>.</summary>
    public FineTuningDivergedException(string message) : base(message) { }

    /// <summary>A divergence with the default message.</summary>
    public FineTuningDivergedException() { }

    /// <summary>A divergence described by <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public FineTuningDivergedException(string message, Exception innerException) : base(message, innerException) { }
}
