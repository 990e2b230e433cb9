namespace EffNet.MLNet.Catalog;

/// <summary>How the weights were evaluated: resize the shorter side, centre-crop, interpolate.</summary>
/// <param name="ResizeSize">Shorter side after resizing.</param>
/// <param name="CropSize">Side of the centre crop the network sees.</param>
/// <param name="Interpolation">"bicubic" or "bilinear".</param>
public sealed record EvalTransform(int ResizeSize, int CropSize, string Interpolation);
