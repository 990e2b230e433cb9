namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>Multi-labelled images turned into features once, held in memory for the per-label trainers.</summary>
public sealed class MultiLabelFeatureTable
{
    /// <summary>Create a table; every feature vector must have <paramref name="dimension"/> entries.</summary>
    public MultiLabelFeatureTable(IReadOnlyList<MultiLabeledImage> images, IReadOnlyList<float[]> features, int dimension)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(features);
        if (images.Count != features.Count) throw new ArgumentException("One feature vector per image is needed.");
        if (features.Any(f => f.Length != dimension)) throw new ArgumentException($"Every feature vector must have {dimension} entries.");
        Images = images;
        Features = features;
        Dimension = dimension;
    }

    /// <summary>The images, in order.</summary>
    public IReadOnlyList<MultiLabeledImage> Images { get; }

    /// <summary>Their feature vectors.</summary>
    public IReadOnlyList<float[]> Features { get; }

    /// <summary>Feature vector length.</summary>
    public int Dimension { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Images.Count;

    /// <summary>Every label some image carries, in ordinal order: the order of the model's <c>Probability</c> vector.</summary>
    public IReadOnlyList<string> Labels() => Images.SelectMany(i => i.Labels).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
}
