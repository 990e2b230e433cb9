namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>One image of a multi-label dataset, with every label it carries (possibly none).</summary>
/// <param name="ImagePath">Absolute path of the image file.</param>
/// <param name="Labels">Its labels, distinct, in the order the manifest gave them.</param>
public sealed record MultiLabeledImage(string ImagePath, IReadOnlyList<string> Labels);
