using SkiaSharp;

namespace EffNet.MLNet.Imaging;

/// <summary>
/// Decodes an image file straight into the network's input: planar RGB floats 0…255, resized so
/// the shorter side fills <c>size</c> and centre-cropped to a <c>size</c>×<c>size</c> square (what
/// ML.NET's ResizeImages with IsoCrop does), with the same Mitchell cubic draw, so the pixels equal
/// the saved chain's. (Until ML.NET 5, large JPEGs were decoded here at a reduced DCT scale; ML.NET 6
/// resizes the full decode without mipmaps, which a reduced-scale decode cannot reproduce.)
/// The pixels are those ML.NET's <c>LoadImages</c> and <c>MLImage</c> give, so training and the
/// saved model see the same image: EXIF orientation is ignored (the stored pixels are used, as in
/// ML.NET, PIL's <c>Image.open</c> and torchvision), and transparency is composited over black.
/// Damage found only while decoding the body is a <see cref="BadImageException"/>, like damage in
/// the header; so is a truncated image unless the caller accepts it.
/// </summary>
internal static class FastImageDecoder
{
    /// <summary>
    /// Changes whenever a change to this decoder alters the pixels it produces, so that features
    /// cached from an earlier version are not served as if they came from this one.
    /// </summary>
    public const string Version = "5";

    /// <summary>Decode <paramref name="path"/> into <paramref name="destination"/> (3 × size × size floats).</summary>
    /// <returns>
    /// False for a whole image; true for a truncated one decoded as far as it goes (missing rows
    /// filled), which happens only with <paramref name="acceptTruncated"/>: the caller should warn.
    /// </returns>
    /// <exception cref="BadImageException">The file is missing, not an image, damaged, too large, or truncated and not accepted.</exception>
    public static bool Decode(string path, int size, Span<float> destination, long maxPixels = ImageCheck.DefaultMaxPixels, bool acceptTruncated = false)
    {
        CheckDestination(size, destination);
        using var image = OpenedImage.Open(path, maxPixels);
        return Decode(image, path, size, destination, acceptTruncated);
    }

    /// <summary>Decode the encoded image in <paramref name="image"/> (from its position to its end); <paramref name="name"/> names it in errors.</summary>
    /// <returns>True when it is truncated and was accepted (<paramref name="acceptTruncated"/>), else false.</returns>
    /// <exception cref="BadImageException">The data is not an image, damaged, too large, or truncated and not accepted.</exception>
    public static bool Decode(Stream image, string name, int size, Span<float> destination, bool acceptTruncated = false, long maxPixels = ImageCheck.DefaultMaxPixels)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckDestination(size, destination);
        using var encoded = OpenedImage.Open(image, name, maxPixels);
        return Decode(encoded, name, size, destination, acceptTruncated);
    }

    private static void CheckDestination(int size, Span<float> destination)
    {
        if (destination.Length < 3 * size * size) throw new ArgumentException("The destination is smaller than one image.", nameof(destination));
    }

    private static bool Decode(OpenedImage image, string name, int size, Span<float> destination, bool acceptTruncated)
    {
        var codec = image.Codec;
        var decodeInfo = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(decodeInfo);
        var truncated = image.Outcome(codec.GetPixels(decodeInfo, decoded.GetPixels()), acceptTruncated);
        Crop(name, decoded, size, destination);
        return truncated;
    }

    // ML.NET 6's ResizeImages (IsoCrop) draws the full image with Skia's Mitchell cubic and no mipmaps.
    internal static readonly SKSamplingOptions CubicMitchell = new(SKCubicResampler.Mitchell);

    // The size×size square ML.NET 6's ResizeImages (IsoCrop, centre anchor) makes: the image scaled to
    // cover the square, drawn into a rectangle whose offset and size are truncated to whole pixels the
    // way ML.NET computes them (single-precision arithmetic, in this order), over black. Any other
    // geometry or filter — a rounded size, a reduced-scale JPEG decode — gives training pixels the saved
    // .zip never sees: on a 24 MP photo a ⅛-scale decode is antialiased where ML.NET's cubic draw is not.
    internal static void Crop(string name, SKBitmap image, int size, Span<float> destination)
    {
        using var source = Square(name, image, size);
        var pixels = source.GetPixelSpan();
        var plane = size * size;
        var red = destination[..plane];
        var green = destination.Slice(plane, plane);
        var blue = destination.Slice(2 * plane, plane);
        for (var y = 0; y < size; y++)
        {
            var row = pixels.Slice(y * source.RowBytes, size * 4);
            var at = y * size;
            for (var x = 0; x < size; x++, at++)
            {
                red[at] = row[4 * x];
                green[at] = row[4 * x + 1];
                blue[at] = row[4 * x + 2];
            }
        }
    }

    /// <summary>
    /// The size×size RGBA square (opaque, tightly packed rows) ML.NET 6's ResizeImages (IsoCrop, centre) makes of
    /// <paramref name="image"/>, which is left immutable.
    /// </summary>
    internal static SKBitmap Square(string name, SKBitmap image, int size)
    {
        var scaleX = (float)size / image.Width;
        var scaleY = (float)size / image.Height;
        var (scale, left, top) = scaleY < scaleX
            ? (scaleX, 0, (int)((size - image.Height * scaleX) / 2f))
            : (scaleY, (int)((size - image.Width * scaleY) / 2f), 0);
        var width = (int)(image.Width * scale);
        var height = (int)(image.Height * scale);
        var source = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        if (image.Width == size && image.Height == size)
        {
            // ResizeImages hands an image already at its size on untouched; a cubic draw at scale 1 is not the
            // identity (Mitchell weighs the neighbours 1/18 each). The premultiplied colours are what
            // ExtractPixels reads from it, and what the draw over black below gives at any other size.
            var from = image.GetPixelSpan();
            var to = source.GetPixelSpan();
            for (var y = 0; y < size; y++)
                from.Slice(y * image.RowBytes, size * 4).CopyTo(to.Slice(y * source.RowBytes, size * 4));
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                    to[y * source.RowBytes + 4 * x + 3] = 255;
            return source;
        }
        source.Erase(SKColors.Black);
        // An SKImage of a mutable bitmap is a copy of its pixels; of an immutable one, a view. The decode is
        // not written again, so the draw needs no second full-size copy.
        image.SetImmutable();
        try
        {
            using var canvas = new SKCanvas(source);
            using var drawn = SKImage.FromBitmap(image) ?? throw new BadImageException(name, $"could not be resized from {image.Width}×{image.Height} to {size}×{size}");
            canvas.DrawImage(drawn, new SKRect(0, 0, image.Width, image.Height), new SKRect(left, top, left + width, top + height), CubicMitchell);
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }
}
