namespace EffNet.MLNet.FineTuning;

/// <summary>
/// Augmentation of training images, written over the decoded pixels (flips off: a flip changes the
/// label of a direction, a digit, a text). Deterministic for a seed, whatever the thread count.
/// </summary>
public enum Augmentation
{
    /// <summary>None: each image is the input square serving makes.</summary>
    None,

    /// <summary>Random-resized crops (area 35–100 %) and mild colour jitter.</summary>
    Light,

    /// <summary>Random-resized crops (area 8–100 %), colour jitter and one TrivialAugment-style operation per image.</summary>
    Strong,
}
