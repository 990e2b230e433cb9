namespace EffNet.MLNet.Architecture;

/// <summary>Parameter and multiply-add counts computed from the expanded layers.</summary>
public static class ArchitectureCost
{
    /// <summary>
    /// Trainable parameters: convolution kernels, squeeze-and-excitation biases, batch-norm
    /// scale and shift, and (when <paramref name="classes"/> &gt; 0) the linear classifier.
    /// Batch-norm running statistics are buffers, not parameters, as in PyTorch.
    /// </summary>
    public static long Parameters(EfficientNetArchitecture architecture, int classes = EfficientNetArchitecture.ImageNetClasses)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var convs = architecture.ConvLayers.Sum(l => l.ParameterCount);
        var classifier = classes > 0 ? (long)architecture.FeatureDimension * classes + classes : 0;
        return convs + classifier;
    }

    /// <summary>
    /// Multiply-adds of one forward pass at <paramref name="resolution"/> (default: the
    /// variant's own): every convolution and the classifier. Element-wise work (batch-norm,
    /// activations, pooling, residual adds) is not counted, following the paper's convention.
    /// </summary>
    public static long MultiplyAdds(EfficientNetArchitecture architecture, int? resolution = null, int classes = EfficientNetArchitecture.ImageNetClasses)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var size = resolution ?? architecture.Variant.Resolution;
        long total = 0;
        foreach (var layer in architecture.ConvLayers)
        {
            if (layer.Role is ConvRole.SqueezeReduce or ConvRole.SqueezeExpand)
            {
                // Squeeze-and-excitation runs on the globally pooled 1×1 map.
                total += layer.WeightCount;
                continue;
            }
            size = layer.OutputSize(size);
            total += layer.WeightCount * size * size;
        }
        if (classes > 0) total += (long)architecture.FeatureDimension * classes;
        return total;
    }
}
