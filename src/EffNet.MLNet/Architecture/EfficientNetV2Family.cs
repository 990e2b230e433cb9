namespace EffNet.MLNet.Architecture;

/// <summary>
/// EfficientNetV2 (Tan and Le, 2021) as torchvision builds it: one hand-designed table per size
/// rather than compound scaling. Fused-MBConv without squeeze-and-excitation in the early stages,
/// MBConv with it later; stem = the first stage's input, head 1280, batch-norm ε = 1e-3.
/// </summary>
public static class EfficientNetV2Family
{
    /// <summary>Width of the head convolution, the same for every size.</summary>
    public const int HeadChannels = 1280;

    /// <summary>V2-S (paper, table 4).</summary>
    public static readonly IReadOnlyList<StageSpec> SStages =
    [
        //     expand kernel stride  in  out layers
        Fused(1,     3,     1,      24,  24,  2),
        Fused(4,     3,     2,      24,  48,  4),
        Fused(4,     3,     2,      48,  64,  4),
        MBConv(4,    3,     2,      64, 128,  6),
        MBConv(6,    3,     1,     128, 160,  9),
        MBConv(6,    3,     2,     160, 256, 15),
    ];

    /// <summary>V2-M.</summary>
    public static readonly IReadOnlyList<StageSpec> MStages =
    [
        Fused(1,     3,     1,      24,  24,  3),
        Fused(4,     3,     2,      24,  48,  5),
        Fused(4,     3,     2,      48,  80,  5),
        MBConv(4,    3,     2,      80, 160,  7),
        MBConv(6,    3,     1,     160, 176, 14),
        MBConv(6,    3,     2,     176, 304, 18),
        MBConv(6,    3,     1,     304, 512,  5),
    ];

    /// <summary>V2-L.</summary>
    public static readonly IReadOnlyList<StageSpec> LStages =
    [
        Fused(1,     3,     1,      32,  32,  4),
        Fused(4,     3,     2,      32,  64,  7),
        Fused(4,     3,     2,      64,  96,  7),
        MBConv(4,    3,     2,      96, 192, 10),
        MBConv(6,    3,     1,     192, 224, 19),
        MBConv(6,    3,     2,     224, 384, 25),
        MBConv(6,    3,     1,     384, 640,  7),
    ];

    /// <summary>The sizes, at torchvision's evaluation resolutions, with its dropout and ε.</summary>
    public static readonly IReadOnlyList<EfficientNetVariant> Variants =
    [
        new("v2-s", 1.0, 1.0, 384, 0.2, 1e-3) { Family = ArchitectureFamily.EfficientNetV2 },
        new("v2-m", 1.0, 1.0, 480, 0.3, 1e-3) { Family = ArchitectureFamily.EfficientNetV2 },
        new("v2-l", 1.0, 1.0, 480, 0.4, 1e-3) { Family = ArchitectureFamily.EfficientNetV2 },
    ];

    internal static NetworkTable Table(EfficientNetVariant variant)
    {
        var stages = variant.Name switch
        {
            "v2-s" => SStages,
            "v2-m" => MStages,
            "v2-l" => LStages,
            _ => throw new ArgumentException($"EfficientNetV2 has sizes v2-s, v2-m and v2-l, not '{variant.Name}'.", nameof(variant)),
        };
        return new NetworkTable(stages, stages[0].InputChannels, HeadChannels, ScaleStemAndHead: true, FixFirstAndLastDepth: false, Activation.SiLU);
    }

    private static StageSpec Fused(int expand, int kernel, int stride, int input, int output, int layers) =>
        new(expand, kernel, stride, input, output, layers) { Kind = BlockKind.FusedMBConv, SqueezeExcite = false };

    private static StageSpec MBConv(int expand, int kernel, int stride, int input, int output, int layers) =>
        new(expand, kernel, stride, input, output, layers);
}
