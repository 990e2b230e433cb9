namespace EffNet.MLNet.Imaging;

/// <summary>An image met while featurizing that was not simply fine.</summary>
/// <param name="ImagePath">The image, as the input row named it (resolved against the image folder).</param>
/// <param name="Reason">What is wrong with it, as a phrase ("is truncated: …").</param>
/// <param name="Accepted">
/// True for a truncated image decoded as far as it goes because truncated images were accepted:
/// its features are computed, and the caller should warn. False for a bad image: its row has no features.
/// </param>
public sealed record ImageIssue(string ImagePath, string Reason, bool Accepted);
