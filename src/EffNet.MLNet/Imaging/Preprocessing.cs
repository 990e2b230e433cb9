namespace EffNet.MLNet;

/// <summary>How an image becomes the backbone's input: the resampling between the decoded image and the network.</summary>
public enum Preprocessing
{
    /// <summary>
    /// Large JPEGs decoded at a reduced scale, then a cubic resize of the shorter side and a centre crop
    /// (what the saved model's stock ML.NET <c>ResizeImages</c> does). The fastest; features differ
    /// slightly from torchvision's evaluation transform (median cosine about 0.975 on camera photos).
    /// </summary>
    Fast,

    /// <summary>
    /// torchvision's evaluation transform, as the published ImageNet accuracies were measured: a
    /// full-resolution decode, the shorter side resized with Pillow's antialiased filter of the weights'
    /// evaluation transform (bicubic for the catalog's weights), torchvision's centre crop. Slower on
    /// large photos, which must be decoded in full.
    /// </summary>
    TorchvisionExact,
}
