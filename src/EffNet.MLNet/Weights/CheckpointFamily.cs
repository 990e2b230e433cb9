using System.Text.RegularExpressions;
using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Weights;

/// <summary>
/// The library a checkpoint comes from. It decides the batch-norm ε and the convolutions'
/// padding, which the tensors do not record: timm's <c>tf_efficientnet_bN</c> and
/// <c>efficientnet_bN</c> have identical tensor names and shapes.
/// </summary>
public enum CheckpointFamily
{
    /// <summary>
    /// Decide from the checkpoint: torchvision's tensor names mean <see cref="Torchvision"/>; timm's
    /// names mean <see cref="TimmTensorFlow"/> when the file (or its Hugging Face folder) is named
    /// <c>tf_efficientnet…</c>, <see cref="Timm"/> when it is named <c>efficientnet…</c>, and are
    /// refused otherwise, since guessing wrong gives silently wrong features.
    /// </summary>
    Auto,

    /// <summary>torchvision's <c>efficientnet_bN</c>: symmetric padding; ε = 1e-5 for B0–B4, 1e-3 for B5–B7.</summary>
    Torchvision,

    /// <summary>timm's <c>efficientnet_bN</c>: symmetric padding, ε = 1e-5 for every variant.</summary>
    Timm,

    /// <summary>timm's <c>tf_efficientnet_bN</c>, ported from TensorFlow: TensorFlow's "SAME" padding, ε = 1e-3.</summary>
    TimmTensorFlow,
}

/// <summary>How a convolution pads its input.</summary>
public enum ConvPadding
{
    /// <summary>(k − 1)/2 pixels on every side, as PyTorch's <c>padding=k//2</c>.</summary>
    Symmetric,

    /// <summary>
    /// TensorFlow's "SAME": output side ⌈input / stride⌉, the odd pixel of padding at the bottom
    /// and right (ONNX <c>auto_pad = SAME_UPPER</c>).
    /// </summary>
    TensorFlowSame,
}

/// <summary>What each <see cref="CheckpointFamily"/> means for the network, and how it is recognised.</summary>
public static partial class CheckpointFamilies
{
    /// <summary>ε of every batch-norm layer in checkpoints of <paramref name="family"/>.</summary>
    public static double BatchNormEpsilon(this CheckpointFamily family, EfficientNetVariant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        return family switch
        {
            CheckpointFamily.Timm => 1e-5,
            CheckpointFamily.TimmTensorFlow => 1e-3,
            _ => variant.BatchNormEpsilon,
        };
    }

    /// <summary>Padding of every convolution in checkpoints of <paramref name="family"/>.</summary>
    public static ConvPadding Padding(this CheckpointFamily family) =>
        family == CheckpointFamily.TimmTensorFlow ? ConvPadding.TensorFlowSame : ConvPadding.Symmetric;

    /// <summary>Short name for messages and metadata: torchvision, timm, timm-tf.</summary>
    public static string DisplayName(this CheckpointFamily family) => family switch
    {
        CheckpointFamily.Torchvision => "torchvision",
        CheckpointFamily.Timm => "timm",
        CheckpointFamily.TimmTensorFlow => "timm-tf",
        _ => "auto",
    };

    /// <summary>
    /// The family of the checkpoint at <paramref name="source"/> whose tensors follow
    /// <paramref name="naming"/>, given what the caller asked for.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The family asked for contradicts the tensor names, or cannot be told.</exception>
    internal static CheckpointFamily Resolve(CheckpointFamily requested, CheckpointNaming naming, string source)
    {
        var timmNames = naming == CheckpointNaming.Timm;
        if (requested == CheckpointFamily.Auto)
            return timmNames ? FromFileName(source) ?? throw new CheckpointFormatException(source, UntoldTimmFamily) : CheckpointFamily.Torchvision;
        if (timmNames != (requested != CheckpointFamily.Torchvision))
            throw new CheckpointFormatException(source,
                $"the {requested.DisplayName()} family was asked for, but the tensor names are {naming.Name}'s; give the family the checkpoint comes from, or auto.");
        return requested;
    }

    private const string UntoldTimmFamily =
        "the tensor names are timm's, but timm's efficientnet_bN and tf_efficientnet_bN checkpoints share them and differ in padding and batch-norm ε, " +
        "and the file name says neither. Say which: " + OptionWording.TimmFamilyRemedy + "; " +
        "or keep timm's file name (tf_efficientnet_b0_aa-827b6e33.pth, efficientnet_b0_ra-3dd342df.pth).";

    /// <summary>
    /// timm's family from the names timm, torch hub and the Hugging Face hub give the file:
    /// <c>tf_efficientnet_b0_aa-827b6e33.pth</c>, <c>efficientnet_b3_ra2-cf984f9c.pth</c>, or a
    /// <c>model.safetensors</c> inside <c>models--timm--tf_efficientnet_b0.ns_jft_in1k</c> (the hub
    /// cache) or a folder named after the model. Null when no name says.
    /// </summary>
    internal static CheckpointFamily? FromFileName(string path)
    {
        var full = Path.GetFullPath(path);
        var names = new List<string> { Path.GetFileName(full) };
        if (Path.GetDirectoryName(full) is { } folder) names.Add(Path.GetFileName(folder));
        names.AddRange(full.Split(Path.DirectorySeparatorChar).Where(n => n.StartsWith("models--timm--", StringComparison.OrdinalIgnoreCase)));
        foreach (var name in names)
        {
            if (TensorFlowName().IsMatch(name)) return CheckpointFamily.TimmTensorFlow;
            if (TimmName().IsMatch(name)) return CheckpointFamily.Timm;
        }
        return null;
    }

    [GeneratedRegex(@"(^|[^a-z0-9])tf_efficientnet(v2)?_", RegexOptions.IgnoreCase)]
    private static partial Regex TensorFlowName();

    [GeneratedRegex(@"(^|[^a-z0-9_])efficientnet(_b\d|_lite\d|v2_)", RegexOptions.IgnoreCase)]
    private static partial Regex TimmName();
}
