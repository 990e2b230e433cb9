namespace EffNet.MLNet.Training;

/// <summary>How training weights each image by its class, so that rare classes count as much as common ones.</summary>
public enum ClassWeighting
{
    /// <summary>Inverse frequency when the largest class has at least three times the images of the smallest; none otherwise. The default.</summary>
    Auto,
    /// <summary>Every image weighs 1.</summary>
    None,
    /// <summary>Each class weighs the inverse of its image count, normalised so that the mean weight over classes is 1.</summary>
    InverseFrequency,
}
