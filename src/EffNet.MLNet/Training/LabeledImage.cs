namespace EffNet.MLNet.Training;

/// <summary>One image of a dataset, with its label (empty when unlabelled).</summary>
/// <param name="ImagePath">Absolute path of the image file.</param>
/// <param name="Label">Class name.</param>
public sealed record LabeledImage(string ImagePath, string Label);
