namespace EffNet.MLNet.Architecture;

/// <summary>What a convolution does inside the network; checkpoint name mappings key on it.</summary>
public enum ConvRole
{
    /// <summary>3×3 stride-2 convolution on the RGB input.</summary>
    Stem,
    /// <summary>1×1 expansion into the inverted bottleneck.</summary>
    Expand,
    /// <summary>k×k depthwise convolution.</summary>
    Depthwise,
    /// <summary>1×1 squeeze-and-excitation reduction (with bias, on pooled features).</summary>
    SqueezeReduce,
    /// <summary>1×1 squeeze-and-excitation expansion (with bias, followed by a sigmoid gate).</summary>
    SqueezeExpand,
    /// <summary>1×1 linear projection out of the bottleneck (no activation).</summary>
    Project,
    /// <summary>1×1 convolution to the feature dimension before pooling.</summary>
    Head,
    /// <summary>
    /// k×k full convolution of a Fused-MBConv block, with activation: it expands (a 1×1 project
    /// follows), or with expansion 1 it is the whole block.
    /// </summary>
    Fused,
}

/// <summary>Where a convolution sits, for the checkpoint namings: the kind and shape of its block, and the network's stage count.</summary>
internal readonly record struct LayerPlace(BlockKind Kind, bool BlockHasExpand, bool BlockHasSqueezeExcite, int Stages);

/// <summary>
/// One convolution of the network. <paramref name="HasBatchNorm"/> convolutions have no bias of
/// their own in the checkpoint; the others (squeeze-and-excitation) do.
/// </summary>
/// <param name="Name">Stable, Keras-style name (<c>block2a_expand_conv</c>), used for ONNX node names.</param>
/// <param name="Role">What the layer does.</param>
/// <param name="Stage">0-based stage for block layers; -1 for stem and head.</param>
/// <param name="Block">0-based index of the block inside its stage; -1 for stem and head.</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Kernel">Square kernel side.</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Groups">1, or the channel count for depthwise.</param>
/// <param name="HasBatchNorm">Followed by batch-norm in the checkpoint.</param>
public sealed record ConvLayer(
    string Name, ConvRole Role, int Stage, int Block,
    int InChannels, int OutChannels, int Kernel, int Stride, int Groups, bool HasBatchNorm)
{
    /// <summary>Where the layer sits; set by <see cref="EfficientNetArchitecture.For"/>.</summary>
    internal LayerPlace Place { get; init; }

    /// <summary>Symmetric zero padding that keeps "same" size at stride 1 (torchvision's rule).</summary>
    public int Padding => (Kernel - 1) / 2;

    /// <summary>ONNX/PyTorch weight layout [out, in/groups, k, k].</summary>
    public int[] WeightShape => [OutChannels, InChannels / Groups, Kernel, Kernel];

    /// <summary>Number of weights in the kernel.</summary>
    public long WeightCount => (long)OutChannels * (InChannels / Groups) * Kernel * Kernel;

    /// <summary>Trainable parameters: kernel plus bias, or kernel plus batch-norm scale and shift.</summary>
    public long ParameterCount => WeightCount + (HasBatchNorm ? 2L * OutChannels : OutChannels);

    /// <summary>Output side for an input side, as PyTorch and ONNX compute it.</summary>
    public int OutputSize(int inputSize) => (inputSize + 2 * Padding - Kernel) / Stride + 1;
}
