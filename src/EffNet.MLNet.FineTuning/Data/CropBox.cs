namespace EffNet.MLNet.FineTuning.Data;

/// <summary>A rectangle of whole pixels inside an image.</summary>
internal readonly record struct CropBox(int X, int Y, int Width, int Height);
