namespace EffNet.MLNet.Architecture;

/// <summary>Which EfficientNet line a variant belongs to; each has its own table and block kinds.</summary>
public enum ArchitectureFamily
{
    /// <summary>EfficientNet B0–B7 and compound-scaled sizes: MBConv blocks with squeeze-and-excitation, SiLU.</summary>
    EfficientNet,
    /// <summary>EfficientNetV2 S/M/L: Fused-MBConv in the early stages, MBConv with squeeze-and-excitation later, SiLU.</summary>
    EfficientNetV2,
    /// <summary>EfficientNet-Lite0–4: B0's stages without squeeze-and-excitation, ReLU6, stem and head fixed across sizes.</summary>
    EfficientNetLite,
}

/// <summary>The nonlinearity after every convolution that has one.</summary>
public enum Activation
{
    /// <summary>x·σ(x) (swish).</summary>
    SiLU,
    /// <summary>min(max(x, 0), 6), which integer runtimes execute as one clip.</summary>
    ReLU6,
}

/// <summary>How a block is built.</summary>
public enum BlockKind
{
    /// <summary>1×1 expand → depthwise k×k → (squeeze-and-excitation) → 1×1 project.</summary>
    MBConv,
    /// <summary>
    /// Fused-MBConv (EfficientNetV2): one full k×k convolution in place of expand and depthwise, then
    /// a 1×1 project; with expansion 1 the k×k convolution (with its activation) is the whole block.
    /// </summary>
    FusedMBConv,
}
