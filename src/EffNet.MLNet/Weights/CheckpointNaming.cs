using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Weights;

/// <summary>
/// How one library names the tensors of each layer. A convolution followed by batch-norm has
/// a weight under <see cref="ConvPrefix"/> and scale/shift/statistics under
/// <see cref="BatchNormPrefix"/>; a squeeze-and-excitation convolution has weight and bias.
/// </summary>
internal abstract class CheckpointNaming
{
    /// <summary>torchvision's <c>efficientnet_bN</c> and <c>efficientnet_v2_*</c> state_dict (<c>features.N…</c>, <c>classifier.1…</c>).</summary>
    public static CheckpointNaming Torchvision { get; } = new TorchvisionNaming();

    /// <summary>timm's <c>efficientnet_bN</c>, <c>efficientnet_lite*</c> and <c>efficientnetv2_*</c> state_dict (<c>conv_stem</c>, <c>blocks.S.B…</c>, <c>conv_head</c>).</summary>
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
            if (l.Role == ConvRole.Head) return $"features.{l.Place.Stages + 1}";
            // The index inside the block's Sequential. MBConv: [expand?] depthwise, [squeeze-excitation?],
            // project. FusedMBConv: fused k×k, [project].
            var depthwise = l.Place.BlockHasExpand ? 1 : 0;
            var index = l.Role switch
            {
                ConvRole.Expand or ConvRole.Fused => 0,
                ConvRole.Depthwise => depthwise,
                ConvRole.SqueezeReduce or ConvRole.SqueezeExpand => depthwise + 1,
                _ when l.Place.Kind == BlockKind.FusedMBConv => 1,
                _ => depthwise + (l.Place.BlockHasSqueezeExcite ? 2 : 1),
            };
            return $"features.{l.Stage + 1}.{l.Block}.block.{index}";
        }
    }

    private sealed class TimmNaming : CheckpointNaming
    {
        public override string Name => "timm";

        public override string ClassifierPrefix => "classifier";

        // timm's block classes: InvertedResidual (conv_pw, conv_dw, se, conv_pwl), DepthwiseSeparableConv for
        // expand ratio 1 (conv_dw, se, conv_pw), EdgeResidual for V2's fused blocks (conv_exp, conv_pwl) and
        // ConvBnAct for a fused block with expand ratio 1 (conv).
        public override string ConvPrefix(ConvLayer l) => l.Role switch
        {
            ConvRole.Stem => "conv_stem",
            ConvRole.Head => "conv_head",
            ConvRole.Expand => Block(l) + ".conv_pw",
            ConvRole.Depthwise => Block(l) + ".conv_dw",
            ConvRole.SqueezeReduce => Block(l) + ".se.conv_reduce",
            ConvRole.SqueezeExpand => Block(l) + ".se.conv_expand",
            ConvRole.Fused => Block(l) + (l.Place.BlockHasExpand ? ".conv_exp" : ".conv"),
            _ => Block(l) + (IsDepthwiseSeparable(l) ? ".conv_pw" : ".conv_pwl"),
        };

        public override string BatchNormPrefix(ConvLayer l) => l.Role switch
        {
            ConvRole.Stem => "bn1",
            ConvRole.Head => "bn2",
            ConvRole.Expand or ConvRole.Fused => Block(l) + ".bn1",
            ConvRole.Depthwise => Block(l) + (IsDepthwiseSeparable(l) ? ".bn1" : ".bn2"),
            _ when l.Place.Kind == BlockKind.FusedMBConv => Block(l) + ".bn2",
            _ => Block(l) + (IsDepthwiseSeparable(l) ? ".bn2" : ".bn3"),
        };

        private static string Block(ConvLayer l) => $"blocks.{l.Stage}.{l.Block}";

        private static bool IsDepthwiseSeparable(ConvLayer l) => l.Place.Kind == BlockKind.MBConv && !l.Place.BlockHasExpand;
    }
}
