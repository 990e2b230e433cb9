namespace EffNet.MLNet.FineTuning.Data;

/// <summary>A training image file and the index of its class.</summary>
internal sealed record LabeledImage(string Path, int Label);
