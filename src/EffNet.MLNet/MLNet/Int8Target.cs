namespace EffNet.MLNet;

/// <summary>
/// How close an int8 backbone's features must stay to float32's, and what may be spent to get there.
/// After calibrating, the featurizer scores int8 against float32 on the calibration images it held out
/// (a seeded quarter of them); if the target is missed, it keeps in float the blocks whose quantization
/// costs the most, measured, until the target is met, and runs in float32 with a warning when
/// <see cref="MaxFloatLayers"/> blocks are not enough.
/// </summary>
public sealed record Int8Target
{
    /// <summary>Least median cosine similarity between int8 and float32 features on the held-out images. Default: 0.99.</summary>
    public double MedianCosine { get; init; } = 0.99;

    /// <summary>Least 5th-percentile cosine similarity on the held-out images. Default: 0.95.</summary>
    public double FifthPercentileCosine { get; init; } = 0.95;

    /// <summary>
    /// How many quantized blocks (B0 has 12: blocks 4a…7a and the head) may be kept in float to meet the
    /// target; each one gives back part of int8's speed. 0 allows none: miss the target, run float32. Default: 3.
    /// </summary>
    public int MaxFloatLayers { get; init; } = 3;

    internal void Validate()
    {
        if (!(MedianCosine is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(MedianCosine), MedianCosine, "Int8Target.MedianCosine must lie in (0, 1].");
        if (!(FifthPercentileCosine is > 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(FifthPercentileCosine), FifthPercentileCosine, "Int8Target.FifthPercentileCosine must lie in (0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegative(MaxFloatLayers);
    }
}
