namespace EffNet.MLNet;

/// <summary>
/// The remedies library errors suggest, named as a C# caller sets them (properties of
/// <see cref="EfficientNetFeaturizerOptions"/>). The command line replaces each whole phrase with
/// its flags, so the two spellings are kept apart and a C# program never reads about flags.
/// </summary>
internal static class OptionWording
{
    /// <summary>What to do when no pretrained weights can be had.</summary>
    public const string NoWeightsRemedy =
        "set a checkpoint (WeightsPath), your own EfficientNet ONNX model (OnnxModelPath) or seeded random weights (RandomInit = true) in EfficientNetFeaturizerOptions";

    /// <summary>How to sweep a variant that has no published weights.</summary>
    public const string SweepRandomWeightsRemedy = "seeded random weights (SweepOptions.RandomInit = true)";

    /// <summary>How to say which timm family a renamed checkpoint comes from.</summary>
    public const string TimmFamilyRemedy =
        "WeightsFamily = CheckpointFamily.Timm or TimmTensorFlow in EfficientNetFeaturizerOptions (or the family argument of CheckpointLoader.Load)";
}
