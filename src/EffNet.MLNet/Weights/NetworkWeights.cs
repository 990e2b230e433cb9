namespace EffNet.MLNet.Weights;

/// <summary>A convolution ready for inference: batch-norm already folded into kernel and bias.</summary>
/// <param name="Kernel">Weights in [out, in/groups, k, k] order.</param>
/// <param name="Bias">One bias per output channel.</param>
public sealed record ConvWeights(float[] Kernel, float[] Bias);

/// <summary>The ImageNet (or other) linear classifier that sits on the pooled features.</summary>
/// <param name="Weight">[classes, features] row-major.</param>
/// <param name="Bias">One bias per class.</param>
public sealed record ClassifierWeights(float[] Weight, float[] Bias)
{
    /// <summary>Number of classes.</summary>
    public int Classes => Bias.Length;
}

/// <summary>
/// Every convolution of one architecture, keyed by <see cref="Architecture.ConvLayer.Name"/>,
/// plus the classifier when the source had one.
/// </summary>
/// <param name="Convolutions">Folded convolutions by layer name.</param>
/// <param name="Classifier">The classifier head, if any.</param>
/// <param name="Source">Where the weights came from: a file path, or "random(seed=N)".</param>
public sealed record NetworkWeights(
    IReadOnlyDictionary<string, ConvWeights> Convolutions, ClassifierWeights? Classifier, string Source)
{
    /// <summary>
    /// The library the weights come from; it decides the convolutions' padding in the graph
    /// (batch-norm ε is already folded in). Default: torchvision.
    /// </summary>
    public CheckpointFamily Family { get; init; } = CheckpointFamily.Torchvision;
}
