using SkiaSharp;

namespace EffNet.MLNet.Imaging;

/// <summary>
/// torchvision's evaluation transform — <c>Resize(resize)</c> of a PIL image (shorter side to
/// <c>resize</c>, the longer one truncated as torchvision computes it, Pillow's antialiased filter),
/// then <c>CenterCrop(crop)</c> (its offsets rounded half to even, as Python's <c>round</c>) — from a
/// full-resolution decode, written into the network's input square. The graph takes a
/// <c>size</c>×<c>size</c> square and crops its centre <c>crop</c> itself, so the square is laid out
/// to put torchvision's crop exactly where the graph takes it. Decoding and transparency are as in
/// <see cref="FastImageDecoder"/> (EXIF orientation ignored, as PIL's <c>Image.open</c>; alpha composited
/// over black, where torchvision's <c>convert("RGB")</c> would drop it).
/// </summary>
internal static class TorchvisionImageDecoder
{
    /// <summary>Changes whenever a change here alters the pixels produced (part of the feature cache's key).</summary>
    public const string Version = "1";

    /// <summary>The size torchvision's <c>Resize(resize)</c> gives a <paramref name="width"/>×<paramref name="height"/> image.</summary>
    public static (int Width, int Height) ResizedSize(int width, int height, int resize) => width <= height
        ? (resize, (int)(resize * (double)height / width))
        : ((int)(resize * (double)width / height), resize);

    /// <summary>Where torchvision's <c>CenterCrop(crop)</c> starts along a side of <paramref name="length"/>.</summary>
    public static int CropStart(int length, int crop) => (int)Math.Round((length - crop) / 2.0, MidpointRounding.ToEven);

    public static bool Decode(OpenedImage image, string name, int size, int crop, ResampleFilter filter, Span<float> destination, bool acceptTruncated)
    {
        var codec = image.Codec;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(info);
        if (decoded.GetPixels() == IntPtr.Zero)
            throw new BadImageException(name, $"is too large to decode in full ({info.Width}×{info.Height}) for torchvision-exact preprocessing");
        var truncated = image.Outcome(codec.GetPixels(info, decoded.GetPixels()), acceptTruncated);
        Write(decoded.GetPixelSpan(), info.Width, info.Height, decoded.RowBytes, size, crop, filter, destination);
        return truncated;
    }

    /// <summary>Resize and crop RGBA pixels into planar RGB floats 0…255 (3 × size × size).</summary>
    internal static void Write(ReadOnlySpan<byte> rgba, int width, int height, int rowBytes, int size, int crop, ResampleFilter filter, Span<float> destination)
    {
        var (outWidth, outHeight) = ResizedSize(width, height, size);
        // Square position p holds torchvision's crop position p - graphStart, i.e. resized position p + shift.
        var graphStart = (size - crop) / 2;
        var shiftX = CropStart(outWidth, crop) - graphStart;
        var shiftY = CropStart(outHeight, crop) - graphStart;
        // Square positions the graph never reads may fall outside the resized image: they repeat its edge.
        var x0 = Math.Clamp(shiftX, 0, outWidth - 1);
        var x1 = Math.Clamp(size - 1 + shiftX, 0, outWidth - 1);
        var y0 = Math.Clamp(shiftY, 0, outHeight - 1);
        var y1 = Math.Clamp(size - 1 + shiftY, 0, outHeight - 1);
        var window = (X: x0, Y: y0, Width: x1 - x0 + 1, Height: y1 - y0 + 1);
        var pixels = AntialiasedResize.Resize(rgba, width, height, rowBytes, outWidth, outHeight, filter, window);
        var plane = size * size;
        for (var y = 0; y < size; y++)
        {
            var row = (Math.Clamp(y + shiftY, 0, outHeight - 1) - y0) * window.Width * 3;
            for (var x = 0; x < size; x++)
            {
                var p = row + (Math.Clamp(x + shiftX, 0, outWidth - 1) - x0) * 3;
                var at = y * size + x;
                destination[at] = pixels[p];
                destination[plane + at] = pixels[p + 1];
                destination[2 * plane + at] = pixels[p + 2];
            }
        }
    }
}
