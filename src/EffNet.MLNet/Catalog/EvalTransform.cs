using EffNet.MLNet.Onnx;

namespace EffNet.MLNet.Catalog;

/// <summary>How the weights were evaluated: resize the shorter side, centre-crop, interpolate, normalise.</summary>
/// <param name="ResizeSize">Shorter side after resizing.</param>
/// <param name="CropSize">Side of the centre crop the network sees (equal to the resize for V2: no crop margin).</param>
/// <param name="Interpolation">"bicubic" or "bilinear".</param>
public sealed record EvalTransform(int ResizeSize, int CropSize, string Interpolation)
{
    /// <summary>Per-channel mean (0…1 units) the weights were trained with: ImageNet's unless they say otherwise (V2-L: 0.5).</summary>
    public IReadOnlyList<float> Mean { get; init; } = FeatureExtractorOptions.ImageNetMean;

    /// <summary>Per-channel standard deviation (0…1 units) the weights were trained with: ImageNet's unless they say otherwise (V2-L: 0.5).</summary>
    public IReadOnlyList<float> Std { get; init; } = FeatureExtractorOptions.ImageNetStd;
}
