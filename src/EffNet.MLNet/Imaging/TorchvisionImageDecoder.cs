using Microsoft.ML.Data;
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
        var square = Square(rgba, width, height, rowBytes, size, crop, filter);
        var plane = size * size;
        for (var at = 0; at < plane; at++)
        {
            destination[at] = square[3 * at];
            destination[plane + at] = square[3 * at + 1];
            destination[2 * plane + at] = square[3 * at + 2];
        }
    }

    /// <summary>
    /// The network's input square made from a decoded <paramref name="image"/>, as an image of that size: ML.NET's
    /// <c>ResizeImages</c> passes an image already at its target size through unchanged, so a saved model's
    /// stock chain then sees exactly torchvision's pixels.
    /// </summary>
    public static MLImage ToSquareImage(MLImage image, int size, int crop, ResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(image);
        var bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        if (!bgra && image.PixelFormat != MLPixelFormat.Rgba32)
            throw new ArgumentException($"Images of pixel format {image.PixelFormat} are not supported.", nameof(image));
        return ToSquareImage(image.Pixels, image.Width, image.Height, image.Width * 4, bgra, size, crop, filter);
    }

    /// <summary>
    /// The same square made from a decoded bitmap (RGBA), with no <see cref="MLImage"/> of the full image in between:
    /// serving then holds one full-size copy of the pixels, not two.
    /// </summary>
    public static MLImage ToSquareImage(SKBitmap image, int size, int crop, ResampleFilter filter) =>
        ToSquareImage(image.GetPixelSpan(), image.Width, image.Height, image.RowBytes, bgra: false, size, crop, filter);

    private static MLImage ToSquareImage(ReadOnlySpan<byte> pixels, int width, int height, int rowBytes, bool bgra, int size, int crop, ResampleFilter filter)
    {
        var square = Square(pixels, width, height, rowBytes, size, crop, filter);
        var rgba = new byte[size * size * 4];
        for (var at = 0; at < size * size; at++)
        {
            rgba[4 * at] = square[3 * at + (bgra ? 2 : 0)];
            rgba[4 * at + 1] = square[3 * at + 1];
            rgba[4 * at + 2] = square[3 * at + (bgra ? 0 : 2)];
            rgba[4 * at + 3] = 255;
        }
        return MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, rgba);
    }

    // The size×size square as packed 3-byte pixels, in the source's channel order.
    private static byte[] Square(ReadOnlySpan<byte> pixels, int width, int height, int rowBytes, int size, int crop, ResampleFilter filter)
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
        var resized = AntialiasedResize.Resize(pixels, width, height, rowBytes, outWidth, outHeight, filter, window);
        var square = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            var row = (Math.Clamp(y + shiftY, 0, outHeight - 1) - y0) * window.Width * 3;
            for (var x = 0; x < size; x++)
                resized.AsSpan(row + (Math.Clamp(x + shiftX, 0, outWidth - 1) - x0) * 3, 3).CopyTo(square.AsSpan((y * size + x) * 3, 3));
        }
        return square;
    }
}
