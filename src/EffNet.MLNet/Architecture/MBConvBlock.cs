namespace EffNet.MLNet.Architecture;

/// <summary>
/// One inverted-residual block: 1×1 expand (absent when the expand ratio is 1) → depthwise k×k →
/// squeeze-and-excitation → 1×1 project, with a residual add when shapes allow.
/// </summary>
public sealed record MBConvBlock(
    string Name, int Stage, int Index,
    ConvLayer? Expand, ConvLayer Depthwise, ConvLayer SqueezeReduce, ConvLayer SqueezeExpand, ConvLayer Project)
{
    /// <summary>Channels entering the block.</summary>
    public int InChannels => (Expand ?? Depthwise).InChannels;

    /// <summary>Channels leaving the block.</summary>
    public int OutChannels => Project.OutChannels;

    /// <summary>Identity shortcut: only where the block keeps both resolution and width.</summary>
    public bool HasResidual => Depthwise.Stride == 1 && InChannels == OutChannels;

    /// <summary>The block's convolutions in execution order.</summary>
    public IEnumerable<ConvLayer> Layers
    {
        get
        {
            if (Expand is not null) yield return Expand;
            yield return Depthwise;
            yield return SqueezeReduce;
            yield return SqueezeExpand;
            yield return Project;
        }
    }
}
