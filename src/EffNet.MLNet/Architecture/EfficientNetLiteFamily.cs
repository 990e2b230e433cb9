namespace EffNet.MLNet.Architecture;

/// <summary>
/// EfficientNet-Lite (TensorFlow's efficientnet_lite_builder, timm's <c>efficientnet_lite*</c>): B0's
/// stages without squeeze-and-excitation and with ReLU6, for integer and mobile runtimes. Width and
/// depth scale as in the B family, except that the stem (32) and head (1280) stay fixed and the
/// first and last stages keep their single block.
/// </summary>
public static class EfficientNetLiteFamily
{
    /// <summary>Stem width of every size.</summary>
    public const int StemChannels = 32;

    /// <summary>Head width of every size.</summary>
    public const int HeadChannels = 1280;

    /// <summary>B0's table with squeeze-and-excitation removed.</summary>
    public static readonly IReadOnlyList<StageSpec> Stages =
        EfficientNetFamily.B0Stages.Select(s => s with { SqueezeExcite = false }).ToList();

    /// <summary>Lite0–4: width, depth, resolution and dropout as published; timm's batch-norm ε 1e-5.</summary>
    public static readonly IReadOnlyList<EfficientNetVariant> Variants =
    [
        new("lite0", 1.0, 1.0, 224, 0.2, 1e-5) { Family = ArchitectureFamily.EfficientNetLite },
        new("lite1", 1.0, 1.1, 240, 0.2, 1e-5) { Family = ArchitectureFamily.EfficientNetLite },
        new("lite2", 1.1, 1.2, 260, 0.3, 1e-5) { Family = ArchitectureFamily.EfficientNetLite },
        new("lite3", 1.2, 1.4, 280, 0.3, 1e-5) { Family = ArchitectureFamily.EfficientNetLite },
        new("lite4", 1.4, 1.8, 300, 0.3, 1e-5) { Family = ArchitectureFamily.EfficientNetLite },
    ];

    internal static NetworkTable Table { get; } =
        new(Stages, StemChannels, HeadChannels, ScaleStemAndHead: false, FixFirstAndLastDepth: true, Activation.ReLU6);
}
