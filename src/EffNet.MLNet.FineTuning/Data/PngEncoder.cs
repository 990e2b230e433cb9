using System.Runtime.InteropServices;
using SkiaSharp;

namespace EffNet.MLNet.FineTuning.Data;

/// <summary>Writes opaque RGBA pixels as a PNG. The only SkiaSharp drawing-side code of this folder (bitmap, image, encode).</summary>
internal static class PngEncoder
{
    public static byte[] Encode(byte[] rgba, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(rgba);
        if (rgba.Length != 4 * width * height) throw new ArgumentException($"Expected {4 * width * height} bytes of RGBA for {width}×{height}.", nameof(rgba));
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rowBytes = bitmap.RowBytes;
        for (var y = 0; y < height; y++)
            Marshal.Copy(rgba, y * width * 4, bitmap.GetPixels() + y * rowBytes, width * 4);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
