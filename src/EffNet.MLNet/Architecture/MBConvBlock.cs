namespace EffNet.MLNet.Architecture;

/// <summary>
/// One block. MBConv (inverted residual): 1×1 expand (absent when the expand ratio is 1) → depthwise
/// k×k → squeeze-and-excitation (absent in Lite) → 1×1 project. Fused-MBConv (V2): a k×k
/// <see cref="ConvRole.Fused"/> convolution in <see cref="Expand"/> → 1×1 project, or the fused
/// convolution alone when the expand ratio is 1. A residual add where shapes allow.
/// </summary>
public sealed record MBConvBlock(
    string Name, int Stage, int Index,
    ConvLayer? Expand, ConvLayer? Depthwise, ConvLayer? SqueezeReduce, ConvLayer? SqueezeExpand, ConvLayer? Project)
{
    /// <summary>MBConv, or Fused-MBConv (no depthwise convolution).</summary>
    public BlockKind Kind => Depthwise is null ? BlockKind.FusedMBConv : BlockKind.MBConv;

    /// <summary>Whether the block has squeeze-and-excitation.</summary>
    public bool HasSqueezeExcite => SqueezeReduce is not null;

    /// <summary>Channels entering the block.</summary>
    public int InChannels => Layers.First().InChannels;

    /// <summary>Channels leaving the block.</summary>
    public int OutChannels => (Project ?? Expand ?? Depthwise)!.OutChannels;

    /// <summary>The block's stride (of its depthwise or fused convolution).</summary>
    public int Stride => Layers.Max(l => l.Stride);

    /// <summary>Identity shortcut: only where the block keeps both resolution and width.</summary>
    public bool HasResidual => Stride == 1 && InChannels == OutChannels;

    /// <summary>The block's convolutions in execution order.</summary>
    public IEnumerable<ConvLayer> Layers
    {
        get
        {
            if (Expand is not null) yield return Expand;
            if (Depthwise is not null) yield return Depthwise;
            if (SqueezeReduce is not null) yield return SqueezeReduce;
            if (SqueezeExpand is not null) yield return SqueezeExpand;
            if (Project is not null) yield return Project;
        }
    }
}
