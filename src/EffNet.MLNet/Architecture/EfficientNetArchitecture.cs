namespace EffNet.MLNet.Architecture;

/// <summary>
/// A variant expanded into concrete layers: the stem, every MBConv block with its channel
/// counts after rounding, and the head. Built only from <see cref="EfficientNetFamily"/>.
/// </summary>
public sealed class EfficientNetArchitecture
{
    /// <summary>Classes of the ImageNet classifier that published parameter counts include.</summary>
    public const int ImageNetClasses = 1000;

    private EfficientNetArchitecture(EfficientNetVariant variant, ConvLayer stem, IReadOnlyList<MBConvBlock> blocks, ConvLayer head)
    {
        Variant = variant;
        Stem = stem;
        Blocks = blocks;
        Head = head;
    }

    /// <summary>The variant this was expanded from.</summary>
    public EfficientNetVariant Variant { get; }

    /// <summary>3×3 stride-2 stem convolution.</summary>
    public ConvLayer Stem { get; }

    /// <summary>All MBConv blocks, stage by stage.</summary>
    public IReadOnlyList<MBConvBlock> Blocks { get; }

    /// <summary>1×1 convolution to the feature dimension.</summary>
    public ConvLayer Head { get; }

    /// <summary>Length of the pooled feature vector.</summary>
    public int FeatureDimension => Head.OutChannels;

    /// <summary>Every convolution in execution order.</summary>
    public IEnumerable<ConvLayer> ConvLayers => Blocks.SelectMany(b => b.Layers).Prepend(Stem).Append(Head);

    /// <summary>Expand a variant into its layers.</summary>
    public static EfficientNetArchitecture For(EfficientNetVariant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        int Width(int channels) => EfficientNetFamily.RoundChannels(channels, variant.WidthMultiplier);

        var stemChannels = Width(EfficientNetFamily.StemChannels);
        var stem = new ConvLayer("stem_conv", ConvRole.Stem, -1, -1, 3, stemChannels, 3, 2, 1, true);

        var blocks = new List<MBConvBlock>();
        var stages = EfficientNetFamily.B0Stages;
        for (var s = 0; s < stages.Count; s++)
        {
            var spec = stages[s];
            var repeats = EfficientNetFamily.RoundRepeats(spec.Repeats, variant.DepthMultiplier);
            var outChannels = Width(spec.OutputChannels);
            var inChannels = Width(spec.InputChannels);
            for (var b = 0; b < repeats; b++)
            {
                var stride = b == 0 ? spec.Stride : 1;
                blocks.Add(Block(s, b, inChannels, outChannels, spec.ExpandRatio, spec.Kernel, stride));
                inChannels = outChannels;
            }
        }

        var last = blocks[^1].OutChannels;
        var head = new ConvLayer("top_conv", ConvRole.Head, -1, -1, last, 4 * last, 1, 1, 1, true);
        return new EfficientNetArchitecture(variant, stem, blocks, head);
    }

    private static MBConvBlock Block(int stage, int index, int inChannels, int outChannels, int expandRatio, int kernel, int stride)
    {
        var name = $"block{stage + 1}{BlockLetter(index)}";
        var expanded = EfficientNetFamily.RoundChannels(inChannels, expandRatio);
        // torchvision sizes the squeeze from the block's input, not from the expanded width.
        var squeeze = Math.Max(1, inChannels / 4);
        ConvLayer L(string suffix, ConvRole role, int cin, int cout, int k, int st, int groups, bool bn) =>
            new($"{name}_{suffix}", role, stage, index, cin, cout, k, st, groups, bn);

        return new MBConvBlock(
            name, stage, index,
            Expand: expanded != inChannels ? L("expand_conv", ConvRole.Expand, inChannels, expanded, 1, 1, 1, true) : null,
            Depthwise: L("dwconv", ConvRole.Depthwise, expanded, expanded, kernel, stride, expanded, true),
            SqueezeReduce: L("se_reduce", ConvRole.SqueezeReduce, expanded, squeeze, 1, 1, 1, false),
            SqueezeExpand: L("se_expand", ConvRole.SqueezeExpand, squeeze, expanded, 1, 1, 1, false),
            Project: L("project_conv", ConvRole.Project, expanded, outChannels, 1, 1, 1, true));
    }

    private static string BlockLetter(int index) => index < 26 ? ((char)('a' + index)).ToString() : $"_{index}";
}
