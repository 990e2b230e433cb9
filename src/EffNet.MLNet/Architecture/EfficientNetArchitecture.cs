namespace EffNet.MLNet.Architecture;

/// <summary>
/// A variant expanded into concrete layers: the stem, every block with its channel counts after
/// rounding, and the head. Built only from the family tables (<see cref="EfficientNetFamily"/>,
/// <see cref="EfficientNetV2Family"/>, <see cref="EfficientNetLiteFamily"/>).
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

    /// <summary>All blocks (MBConv and Fused-MBConv), stage by stage.</summary>
    public IReadOnlyList<MBConvBlock> Blocks { get; }

    /// <summary>1×1 convolution to the feature dimension.</summary>
    public ConvLayer Head { get; }

    /// <summary>Length of the pooled feature vector.</summary>
    public int FeatureDimension => Head.OutChannels;

    /// <summary>Every convolution in execution order.</summary>
    public IEnumerable<ConvLayer> ConvLayers => Blocks.SelectMany(b => b.Layers).Prepend(Stem).Append(Head);

    /// <summary>The nonlinearity after every convolution that has one (SiLU, or ReLU6 in Lite).</summary>
    public Activation Activation { get; private init; }

    /// <summary>Expand a variant into its layers.</summary>
    public static EfficientNetArchitecture For(EfficientNetVariant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        var table = NetworkTable.For(variant);
        int Width(int channels) => EfficientNetFamily.RoundChannels(channels, variant.WidthMultiplier);
        int Fixed(int channels) => table.ScaleStemAndHead ? Width(channels) : channels;
        var stages = table.Stages;
        var outside = new LayerPlace(BlockKind.MBConv, false, false, stages.Count);

        var stemChannels = Fixed(table.StemChannels);
        var stem = new ConvLayer("stem_conv", ConvRole.Stem, -1, -1, 3, stemChannels, 3, 2, 1, true) { Place = outside };

        var blocks = new List<MBConvBlock>();
        var inChannels = stemChannels;
        for (var s = 0; s < stages.Count; s++)
        {
            var spec = stages[s];
            var keepDepth = table.FixFirstAndLastDepth && (s == 0 || s == stages.Count - 1);
            var repeats = keepDepth ? spec.Repeats : EfficientNetFamily.RoundRepeats(spec.Repeats, variant.DepthMultiplier);
            var outChannels = Width(spec.OutputChannels);
            for (var b = 0; b < repeats; b++)
            {
                blocks.Add(Block(spec, s, b, inChannels, outChannels, b == 0 ? spec.Stride : 1, stages.Count));
                inChannels = outChannels;
            }
        }

        var headChannels = table.HeadChannels is { } h ? Fixed(h) : 4 * inChannels;
        var head = new ConvLayer("top_conv", ConvRole.Head, -1, -1, inChannels, headChannels, 1, 1, 1, true) { Place = outside };
        return new EfficientNetArchitecture(variant, stem, blocks, head) { Activation = table.Activation };
    }

    private static MBConvBlock Block(StageSpec spec, int stage, int index, int inChannels, int outChannels, int stride, int stages)
    {
        var name = $"block{stage + 1}{BlockLetter(index)}";
        var expanded = EfficientNetFamily.RoundChannels(inChannels, spec.ExpandRatio);
        var expands = expanded != inChannels;
        var place = new LayerPlace(spec.Kind, expands, spec.SqueezeExcite, stages);
        ConvLayer L(string suffix, ConvRole role, int cin, int cout, int k, int st, int groups, bool bn) =>
            new($"{name}_{suffix}", role, stage, index, cin, cout, k, st, groups, bn) { Place = place };

        if (spec.Kind == BlockKind.FusedMBConv)
        {
            // With expansion 1 the fused convolution goes straight to the output width and is the whole block.
            var fused = L("fused_conv", ConvRole.Fused, inChannels, expands ? expanded : outChannels, spec.Kernel, stride, 1, true);
            var project = expands ? L("project_conv", ConvRole.Project, expanded, outChannels, 1, 1, 1, true) : null;
            return new MBConvBlock(name, stage, index, fused, null, null, null, project);
        }

        // torchvision sizes the squeeze from the block's input, not from the expanded width.
        var squeeze = Math.Max(1, inChannels / 4);
        return new MBConvBlock(
            name, stage, index,
            Expand: expands ? L("expand_conv", ConvRole.Expand, inChannels, expanded, 1, 1, 1, true) : null,
            Depthwise: L("dwconv", ConvRole.Depthwise, expanded, expanded, spec.Kernel, stride, expanded, true),
            SqueezeReduce: spec.SqueezeExcite ? L("se_reduce", ConvRole.SqueezeReduce, expanded, squeeze, 1, 1, 1, false) : null,
            SqueezeExpand: spec.SqueezeExcite ? L("se_expand", ConvRole.SqueezeExpand, squeeze, expanded, 1, 1, 1, false) : null,
            Project: L("project_conv", ConvRole.Project, expanded, outChannels, 1, 1, 1, true));
    }

    private static string BlockLetter(int index) => index < 26 ? ((char)('a' + index)).ToString() : $"_{index}";
}
