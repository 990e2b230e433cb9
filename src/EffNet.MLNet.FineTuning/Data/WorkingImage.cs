namespace EffNet.MLNet.FineTuning.Data;

/// <summary>A decoded image as packed RGB bytes (<c>Rgb[3 × (y × Width + x) + channel]</c>), the input of every augmentation.</summary>
internal sealed record WorkingImage(int Width, int Height, byte[] Rgb)
{
    public long Bytes => Rgb.LongLength;
}
