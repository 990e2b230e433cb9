using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Catalog;

/// <summary>One pretrained checkpoint: where it lives, how to check it, how it was evaluated.</summary>
/// <param name="Variant">b0…b7, v2-s, v2-m, v2-l, lite0.</param>
/// <param name="FileName">File name on the server and in the cache.</param>
/// <param name="Url">Download address.</param>
/// <param name="Sha256Prefix">
/// The hash prefix torchvision publishes in the file name (torch.hub checks the same prefix).
/// It catches damaged and wrong files, not deliberate substitutes: pin the full hash for that
/// (<see cref="Sha256"/>, or a <c>FILE.sha256</c> beside the file in the cache).
/// </param>
/// <param name="Eval">Evaluation transform.</param>
/// <param name="Top1">Published ImageNet top-1 accuracy, percent.</param>
public sealed record PretrainedWeights(string Variant, string FileName, Uri Url, string Sha256Prefix, EvalTransform Eval, double Top1)
{
    /// <summary>
    /// The full SHA-256 (64 lowercase hex digits) when it is known from a source other than the
    /// download itself; null for torchvision's files, whose publisher gives only the prefix.
    /// </summary>
    public string? Sha256 { get; init; }
}

/// <summary>
/// torchvision's ImageNet-1k EfficientNet and EfficientNetV2 weights, timm's EfficientNet-Lite0, and the
/// cache they are downloaded into.
/// </summary>
public sealed partial class PretrainedCatalog
{
    /// <summary>torchvision's download host; <c>EFFNET_MIRROR</c> replaces it.</summary>
    public const string TorchvisionBase = "https://download.pytorch.org/models/";

    /// <summary>timm's release host (its GitHub releases), for the Lite weights torchvision does not publish.</summary>
    internal const string TimmBase = "https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-weights/";

    private static readonly IReadOnlyList<float> Half = [0.5f, 0.5f, 0.5f];

    /// <summary>The published entries (torchvision IMAGENET1K_V1 weights; timm's efficientnet_lite0.ra_in1k).</summary>
    public static readonly IReadOnlyList<PretrainedWeights> Entries =
    [
        Entry("b0", "efficientnet_b0_rwightman-3dd342df.pth", 256, 224, "bicubic", 77.692),
        Entry("b1", "efficientnet_b1_rwightman-533bc792.pth", 256, 240, "bicubic", 78.642),
        Entry("b2", "efficientnet_b2_rwightman-bcdf34b7.pth", 288, 288, "bicubic", 80.608),
        Entry("b3", "efficientnet_b3_rwightman-cf984f9c.pth", 320, 300, "bicubic", 82.008),
        Entry("b4", "efficientnet_b4_rwightman-7eb33cd5.pth", 384, 380, "bicubic", 83.384),
        Entry("b5", "efficientnet_b5_lukemelas-b6417697.pth", 456, 456, "bicubic", 83.444),
        Entry("b6", "efficientnet_b6_lukemelas-c76e70fd.pth", 528, 528, "bicubic", 84.008),
        Entry("b7", "efficientnet_b7_lukemelas-dcc49843.pth", 600, 600, "bicubic", 84.122),
        // V2 resizes straight to the crop size (no margin); V2-L was trained with mean and std 0.5.
        Entry("v2-s", "efficientnet_v2_s-dd5fe13b.pth", 384, 384, "bilinear", 84.228),
        Entry("v2-m", "efficientnet_v2_m-dc08266a.pth", 480, 480, "bilinear", 85.112),
        Entry("v2-l", "efficientnet_v2_l-59c71312.pth", 480, 480, "bicubic", 85.808) with { Eval = new EvalTransform(480, 480, "bicubic") { Mean = Half, Std = Half } },
        // timm's names: the loader reads the file name (efficientnet_…, not tf_…) as timm's family, ε 1e-5, symmetric padding.
        Entry("lite0", "efficientnet_lite0_ra-37913777.pth", 256, 224, "bicubic", 75.5, TimmBase),
    ];

    /// <summary>The entry for a published variant, or null.</summary>
    public static PretrainedWeights? Find(string variant) => Entries.FirstOrDefault(e => e.Variant == variant.ToLowerInvariant());

    /// <summary>
    /// Evaluation transform for a variant: the published one, or for custom sizes torchvision's
    /// B0 ratio (resize 256/224 of the crop).
    /// </summary>
    public static EvalTransform EvalTransformFor(EfficientNetVariant variant) =>
        Find(variant.Name)?.Eval ?? new EvalTransform((int)Math.Round(variant.Resolution * 256.0 / 224), variant.Resolution, "bicubic");

    private static PretrainedWeights Entry(string variant, string file, int resize, int crop, string interpolation, double top1, string host = TorchvisionBase)
    {
        var prefix = file[(file.LastIndexOf('-') + 1)..^".pth".Length];
        return new PretrainedWeights(variant, file, new Uri(host + file), prefix, new EvalTransform(resize, crop, interpolation), top1);
    }
}
