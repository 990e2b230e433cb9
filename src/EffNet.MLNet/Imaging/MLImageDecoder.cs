using Microsoft.ML.Data;
using SkiaSharp;

namespace EffNet.MLNet.Imaging;

/// <summary>
/// Decodes encoded images (JPEG, PNG, WebP, GIF, BMP) held in memory, fully and strictly, into the
/// <see cref="MLImage"/> a saved model's resize and pixel transforms take. The pixels are the ones
/// ML.NET's own <c>LoadImages</c> / <c>MLImage.CreateFromStream</c> give (stored orientation, EXIF
/// ignored; transparency premultiplied, so composited over black), so a model served from bytes sees
/// what it saw in training. Unlike those, damage is an error rather than a silently filled image:
/// a file that is not an image, a truncated or corrupt body, or a declared size past the
/// decompression-bomb limit throws <see cref="BadImageException"/> before any pixel is allocated
/// where that can be known from the header.
/// </summary>
internal static class MLImageDecoder
{
    /// <summary>
    /// Makes the image a model takes (its input square) from a full-size decode, or returns null to take the whole
    /// image. <paramref name="name"/> names the input in errors.
    /// </summary>
    public delegate MLImage? ImageReduction(string name, SKBitmap decoded);

    /// <summary>Decode <paramref name="bytes"/>; <paramref name="name"/> is how errors name the input (an upload's file name).</summary>
    /// <exception cref="BadImageException">The bytes are not a usable image; the reason says why.</exception>
    public static MLImage Decode(byte[] bytes, string name, long maxPixels = ImageCheck.DefaultMaxPixels, bool acceptTruncated = false, long maxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes, ImageReduction? reduce = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        return Decode(stream, name, maxPixels, acceptTruncated, maxDecodedBytes, reduce);
    }

    /// <summary>Decode the image file at <paramref name="path"/>.</summary>
    /// <exception cref="BadImageException">The file is missing, unreadable or not a usable image.</exception>
    public static MLImage DecodeFile(string path, long maxPixels = ImageCheck.DefaultMaxPixels, bool acceptTruncated = false, long maxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes, ImageReduction? reduce = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var image = OpenedImage.Open(path, maxPixels, maxDecodedBytes);
        return Decode(image, path, acceptTruncated, reduce);
    }

    /// <summary>Decode everything <paramref name="stream"/> holds from its current position.</summary>
    /// <exception cref="BadImageException">The stream's content is not a usable image.</exception>
    public static MLImage Decode(Stream stream, string name, long maxPixels = ImageCheck.DefaultMaxPixels, bool acceptTruncated = false, long maxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes, ImageReduction? reduce = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var image = OpenedImage.Open(stream, name, maxPixels, maxDecodedBytes);
        return Decode(image, name, acceptTruncated, reduce);
    }

    // Full size, premultiplied RGBA: what SKBitmap.Decode and then MLImage's conversion give. MLImage has no
    // way to take over a buffer (CreateFromPixels copies), so the one full-size copy is the decode itself
    // whenever reduce can make the model's input from it; only without one is the whole image copied.
    private static MLImage Decode(OpenedImage image, string name, bool acceptTruncated, ImageReduction? reduce)
    {
        var info = image.Codec.Info;
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(target);
        image.Outcome(image.Codec.GetPixels(target, bitmap.GetPixels()), acceptTruncated);
        return reduce?.Invoke(name, bitmap) ?? MLImage.CreateFromPixels(info.Width, info.Height, MLPixelFormat.Rgba32, bitmap.GetPixelSpan());
    }
}
