using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Weights;

/// <summary>
/// How one library names the tensors of each layer. A convolution followed by batch-norm has
/// a weight under <see cref="ConvPrefix"/> and scale/shift/statistics under
/// <see cref="BatchNormPrefix"/>; a squeeze-and-excitation convolution has weight and bias.
/// </summary>
internal abstract class CheckpointNaming
{
    /// <summary>torchvision's <c>efficientnet_bN</c> state_dict (<c>features.N…</c>, <c>classifier.1…</c>).</summary>
    public static CheckpointNaming Torchvision { get; } = new TorchvisionNaming();

    /// <summary>timm's <c>efficientnet_bN</c> state_dict (<c>conv_stem</c>, <c>blocks.S.B…</c>, <c>conv_head</c>).</summary>
    public static CheckpointNaming Timm { get; } = new TimmNaming();

    /// <summary>Short name for messages.</summary>
    public abstract string Name { get; }

    /// <summary>Prefix of the convolution's own tensors (<c>.weight</c>, and <c>.bias</c> without batch-norm).</summary>
    public abstract string ConvPrefix(ConvLayer layer);

    /// <summary>Prefix of the batch-norm after the convolution.</summary>
    public abstract string BatchNormPrefix(ConvLayer layer);

    /// <summary>Prefix of the linear classifier.</summary>
    public abstract string ClassifierPrefix { get; }

    /// <summary>Guess the naming from the keys present, or null when neither fits.</summary>
    public static CheckpointNaming? Detect(IEnumerable<string> keys)
    {
        var set = keys as ICollection<string> ?? keys.ToHashSet();
        if (set.Contains("features.0.0.weight")) return Torchvision;
        if (set.Contains("conv_stem.weight")) return Timm;
        return null;
    }

    private sealed class TorchvisionNaming : CheckpointNaming
    {
        private static readonly int HeadIndex = EfficientNetFamily.B0Stages.Count + 1;

        public override string Name => "torchvision";

        public override string ClassifierPrefix => "classifier.1";

        public override string ConvPrefix(ConvLayer l) => l.Role switch
        {
            ConvRole.SqueezeReduce => Module(l) + ".fc1",
            ConvRole.SqueezeExpand => Module(l) + ".fc2",
            _ => Module(l) + ".0",
        };

        public override string BatchNormPrefix(ConvLayer l) => Module(l) + ".1";

        private static string Module(ConvLayer l)
        {
            if (l.Role == ConvRole.Stem) return "features.0";
            if (l.Role == ConvRole.Head) return $"features.{HeadIndex}";
            // Inside MBConv.block: [expand?] depthwise, squeeze-excitation, project.
            var offset = l.Role == ConvRole.Expand ? 0 : HasExpand(l) ? 1 : 0;
            var index = l.Role switch
            {
                ConvRole.Expand or ConvRole.Depthwise => offset,
                ConvRole.SqueezeReduce or ConvRole.SqueezeExpand => offset + 1,
                _ => offset + 2,
            };
            return $"features.{l.Stage + 1}.{l.Block}.block.{index}";
        }

        // Expand ratio 6 always widens; ratio 1 never does, so the table decides.
        private static bool HasExpand(ConvLayer l) => EfficientNetFamily.B0Stages[l.Stage].ExpandRatio != 1;
    }

    private sealed class TimmNaming : CheckpointNaming
    {
        public override string Name => "timm";

        public override string ClassifierPrefix => "classifier";

        public override string ConvPrefix(ConvLayer l) => l.Role switch
        {
            ConvRole.Stem => "conv_stem",
            ConvRole.Head => "conv_head",
            ConvRole.Expand => Block(l) + ".conv_pw",
            ConvRole.Depthwise => Block(l) + ".conv_dw",
            ConvRole.SqueezeReduce => Block(l) + ".se.conv_reduce",
            ConvRole.SqueezeExpand => Block(l) + ".se.conv_expand",
            _ => Block(l) + (IsDepthwiseSeparable(l) ? ".conv_pw" : ".conv_pwl"),
        };

        public override string BatchNormPrefix(ConvLayer l) => l.Role switch
        {
            ConvRole.Stem => "bn1",
            ConvRole.Head => "bn2",
            ConvRole.Expand => Block(l) + ".bn1",
            ConvRole.Depthwise => Block(l) + (IsDepthwiseSeparable(l) ? ".bn1" : ".bn2"),
            _ => Block(l) + (IsDepthwiseSeparable(l) ? ".bn2" : ".bn3"),
        };

        private static string Block(ConvLayer l) => $"blocks.{l.Stage}.{l.Block}";

        // timm builds expand-ratio-1 stages as DepthwiseSeparableConv, with its own names.
        private static bool IsDepthwiseSeparable(ConvLayer l) => EfficientNetFamily.B0Stages[l.Stage].ExpandRatio == 1;
    }
}
