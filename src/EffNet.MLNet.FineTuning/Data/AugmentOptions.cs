namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// What is done to a training image: a random-resized crop (area fraction <see cref="CropScale"/> of the
/// image, aspect ratio <see cref="CropRatio"/>), colour jitter of strength <see cref="Jitter"/>, a
/// TrivialAugment operation, a horizontal flip. <see cref="For"/> gives the presets. Flips are off unless
/// asked for: a mirror image changes the label of a direction, a digit or a text.
/// </summary>
internal sealed record AugmentOptions
{
    public AugmentPreset Preset { get; init; }

    /// <summary>The crop's area as a fraction of the image's, drawn uniformly in this range (torchvision's <c>scale</c>).</summary>
    public (double Min, double Max) CropScale { get; init; } = (1, 1);

    /// <summary>The crop's width over height, drawn log-uniformly in this range (torchvision's <c>ratio</c>).</summary>
    public (double Min, double Max) CropRatio { get; init; } = (3.0 / 4, 4.0 / 3);

    /// <summary>Brightness, contrast and saturation factors are drawn in [1 − Jitter, 1 + Jitter]; 0 turns jitter off. Hue is not changed.</summary>
    public double Jitter { get; init; }

    /// <summary>Apply one TrivialAugment operation (uniformly chosen, uniform magnitude) to each image.</summary>
    public bool TrivialAugment { get; init; }

    /// <summary>Mirror half of the images left to right. Off by default.</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>The settings of <paramref name="preset"/>; flips stay off unless <paramref name="horizontalFlip"/>.</summary>
    public static AugmentOptions For(AugmentPreset preset, bool horizontalFlip = false) => preset switch
    {
        AugmentPreset.None => new AugmentOptions { Preset = preset, HorizontalFlip = horizontalFlip },
        AugmentPreset.Light => new AugmentOptions { Preset = preset, CropScale = (0.35, 1), Jitter = 0.2, HorizontalFlip = horizontalFlip },
        AugmentPreset.Strong => new AugmentOptions { Preset = preset, CropScale = (0.08, 1), Jitter = 0.4, TrivialAugment = true, HorizontalFlip = horizontalFlip },
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "Unknown augmentation preset."),
    };

    /// <summary>The preset named <paramref name="word"/>: "none", "light" or "strong".</summary>
    /// <exception cref="ArgumentException">Another word.</exception>
    public static AugmentPreset Parse(string word) => word switch
    {
        "none" => AugmentPreset.None,
        "light" => AugmentPreset.Light,
        "strong" => AugmentPreset.Strong,
        _ => throw new ArgumentException($"Unknown augmentation '{word}'; expected none, light or strong.", nameof(word)),
    };
}
