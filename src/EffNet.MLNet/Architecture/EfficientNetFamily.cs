namespace EffNet.MLNet.Architecture;

/// <summary>
/// The whole EfficientNet family as data: the B0 baseline, the compound-scaling rule and the
/// published B1–B7 points. Everything else in the library is derived from this page.
/// </summary>
public static class EfficientNetFamily
{
    /// <summary>Depth grows by α^φ (EfficientNet paper, section 3.3).</summary>
    public const double Alpha = 1.2;

    /// <summary>Width grows by β^φ.</summary>
    public const double Beta = 1.1;

    /// <summary>Resolution grows by γ^φ; α·β²·γ² ≈ 2, so each step of φ roughly doubles the FLOPs.</summary>
    public const double Gamma = 1.15;

    /// <summary>Channel counts are rounded to multiples of this.</summary>
    public const int ChannelDivisor = 8;

    /// <summary>B0's stem width; the head is four times the last stage's width.</summary>
    public const int StemChannels = 32;

    /// <summary>B0's input resolution.</summary>
    public const int BaseResolution = 224;

    /// <summary>The B0 baseline (paper, table 1): seven stages of MBConv blocks.</summary>
    public static readonly IReadOnlyList<StageSpec> B0Stages =
    [
        //  expand kernel stride  in  out repeats
        new(1,     3,     1,      32, 16,  1),
        new(6,     3,     2,      16, 24,  2),
        new(6,     5,     2,      24, 40,  2),
        new(6,     3,     2,      40, 80,  3),
        new(6,     5,     1,      80, 112, 3),
        new(6,     5,     2,     112, 192, 4),
        new(6,     3,     1,     192, 320, 1),
    ];

    /// <summary>
    /// The published variants: hand-picked (width, depth, resolution) close to the formula,
    /// with torchvision's dropout and batch-norm ε (its B5–B7 ports use ε = 1e-3).
    /// </summary>
    public static readonly IReadOnlyList<EfficientNetVariant> Published =
    [
        new("b0", 1.0, 1.0, 224, 0.2, 1e-5),
        new("b1", 1.0, 1.1, 240, 0.2, 1e-5),
        new("b2", 1.1, 1.2, 260, 0.3, 1e-5),
        new("b3", 1.2, 1.4, 300, 0.3, 1e-5),
        new("b4", 1.4, 1.8, 380, 0.4, 1e-5),
        new("b5", 1.6, 2.2, 456, 0.4, 1e-3),
        new("b6", 1.8, 2.6, 528, 0.5, 1e-3),
        new("b7", 2.0, 3.1, 600, 0.5, 1e-3),
    ];

    internal static NetworkTable Table { get; } = new(B0Stages, StemChannels, null, ScaleStemAndHead: true, FixFirstAndLastDepth: false, Activation.SiLU);

    /// <summary>Every named variant of every family: B0–B7, V2-S/M/L, Lite0–4.</summary>
    internal static IEnumerable<EfficientNetVariant> AllNamed =>
        Published.Concat(EfficientNetV2Family.Variants).Concat(EfficientNetLiteFamily.Variants);

    /// <summary>Scale the baseline by one compound coefficient φ.</summary>
    public static EfficientNetVariant FromPhi(double phi)
    {
        if (double.IsNaN(phi) || phi < -2 || phi > 10)
            throw new ArgumentOutOfRangeException(nameof(phi), phi, "φ must lie between -2 and 10.");
        var resolution = RoundResolution(BaseResolution * Math.Pow(Gamma, phi));
        var dropout = Math.Clamp(0.2 + 0.05 * phi, 0.0, 0.5);
        return new EfficientNetVariant(
            $"phi={phi.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}",
            Math.Pow(Beta, phi), Math.Pow(Alpha, phi), resolution, dropout, 1e-5);
    }

    /// <summary>
    /// Round a channel count scaled by <paramref name="multiplier"/> to the nearest multiple of 8,
    /// never going more than 10% below the exact value (the TensorFlow reference rule).
    /// </summary>
    public static int RoundChannels(int channels, double multiplier)
    {
        var exact = channels * multiplier;
        var rounded = Math.Max(ChannelDivisor, (int)(exact + ChannelDivisor / 2.0) / ChannelDivisor * ChannelDivisor);
        if (rounded < 0.9 * exact)
            rounded += ChannelDivisor;
        return rounded;
    }

    /// <summary>Repeats are rounded up: a stage never loses a block to scaling.</summary>
    public static int RoundRepeats(int repeats, double multiplier) => (int)Math.Ceiling(repeats * multiplier);

    /// <summary>Resolutions of custom variants are rounded to a multiple of 8 (the published ones are hand-picked).</summary>
    public static int RoundResolution(double resolution) => Math.Max(32, (int)Math.Round(resolution / 8.0) * 8);
}

/// <summary>One row of a stage table: a stage of identical blocks.</summary>
/// <param name="ExpandRatio">Width of the inverted bottleneck relative to the block's input.</param>
/// <param name="Kernel">Depthwise (or, in Fused-MBConv, the full) kernel size.</param>
/// <param name="Stride">Stride of the stage's first block; later blocks use 1.</param>
/// <param name="InputChannels">Input channels of the stage at width 1.0.</param>
/// <param name="OutputChannels">Output channels of the stage at width 1.0.</param>
/// <param name="Repeats">Blocks in the stage at depth 1.0.</param>
public sealed record StageSpec(int ExpandRatio, int Kernel, int Stride, int InputChannels, int OutputChannels, int Repeats)
{
    /// <summary>MBConv (the B family) or Fused-MBConv (V2's early stages).</summary>
    public BlockKind Kind { get; init; } = BlockKind.MBConv;

    /// <summary>Whether the blocks have squeeze-and-excitation, reduced to a quarter of the block's input channels.</summary>
    public bool SqueezeExcite { get; init; } = true;
}
