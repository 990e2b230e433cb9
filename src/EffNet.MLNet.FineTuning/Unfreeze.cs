using System.Globalization;
using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.FineTuning;

/// <summary>Which part of the network fine-tuning trains; the rest keeps its weights.</summary>
public sealed class Unfreeze
{
    private Unfreeze(int topStages, bool all)
    {
        TopStages = topStages;
        All = all;
    }

    /// <summary>The classifier only (a linear probe trained end to end with augmentation).</summary>
    public static Unfreeze Head { get; } = new(0, false);

    /// <summary>Every layer, the stem included.</summary>
    public static Unfreeze Everything { get; } = new(0, true);

    /// <summary>The last <paramref name="stages"/> MBConv stages, the head convolution and the classifier.</summary>
    public static Unfreeze Top(int stages) => stages >= 1 && stages <= EfficientNetFamily.B0Stages.Count
        ? new Unfreeze(stages, false)
        : throw new ArgumentOutOfRangeException(nameof(stages), stages, $"top:K needs K from 1 to {EfficientNetFamily.B0Stages.Count}, the network's stages.");

    /// <summary>Stages trained from the top (0 for <see cref="Head"/>; meaningless with <see cref="All"/>).</summary>
    public int TopStages { get; }

    /// <summary>Whether every layer trains.</summary>
    public bool All { get; }

    /// <summary>Parse <c>head</c>, <c>top:K</c> or <c>all</c>; null when the text is none of them.</summary>
    public static Unfreeze? TryParse(string? text)
    {
        if (string.Equals(text, "head", StringComparison.OrdinalIgnoreCase)) return Head;
        if (string.Equals(text, "all", StringComparison.OrdinalIgnoreCase)) return Everything;
        if (text is not null && text.StartsWith("top:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(text.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k >= 1 && k <= EfficientNetFamily.B0Stages.Count)
            return Top(k);
        return null;
    }

    /// <summary>Whether a convolution (and its batch-norm) trains.</summary>
    public bool Trains(ConvLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (All) return true;
        if (TopStages == 0) return false;
        if (layer.Role == ConvRole.Head) return true;
        if (layer.Role == ConvRole.Stem) return false;
        return layer.Stage >= EfficientNetFamily.B0Stages.Count - TopStages;
    }

    /// <inheritdoc />
    public override string ToString() => All ? "all" : TopStages == 0 ? "head" : "top:" + TopStages.ToString(CultureInfo.InvariantCulture);
}
