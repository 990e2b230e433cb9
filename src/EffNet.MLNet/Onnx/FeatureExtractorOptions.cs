namespace EffNet.MLNet.Onnx;

/// <summary>How the pooled feature map becomes one vector per image.</summary>
public enum Pooling
{
    /// <summary>Global average pooling, as torchvision's <c>avgpool</c>.</summary>
    Average,
    /// <summary>Global max pooling.</summary>
    Max,
}

/// <summary>Options of the generated feature-extractor graph.</summary>
public sealed record FeatureExtractorOptions
{
    /// <summary>ImageNet channel means, in 0…1 units.</summary>
    public static readonly IReadOnlyList<float> ImageNetMean = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet channel standard deviations, in 0…1 units.</summary>
    public static readonly IReadOnlyList<float> ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>Global pooling over the last feature map. Default: average.</summary>
    public Pooling Pooling { get; init; } = Pooling.Average;

    /// <summary>Scale each feature vector to unit Euclidean length. Default: off.</summary>
    public bool L2Normalize { get; init; }

    /// <summary>Side of the square the network sees; default: the variant's own resolution.</summary>
    public int? Resolution { get; init; }

    /// <summary>
    /// Side of the square input the graph accepts; when larger than <see cref="Resolution"/>,
    /// the graph crops the centre. Default: equal to the resolution (no crop).
    /// </summary>
    public int? InputSize { get; init; }

    /// <summary>Per-channel mean (0…1 units) subtracted inside the graph.</summary>
    public IReadOnlyList<float> Mean { get; init; } = ImageNetMean;

    /// <summary>Per-channel standard deviation (0…1 units) divided out inside the graph.</summary>
    public IReadOnlyList<float> Std { get; init; } = ImageNetStd;
}
