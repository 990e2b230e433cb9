using SkiaSharp;

namespace EffNet.MLNet.Imaging;

/// <summary>
/// Decodes an image file straight into the network's input: planar RGB floats 0…255, resized so
/// the shorter side fills <c>size</c> and centre-cropped to a <c>size</c>×<c>size</c> square by the
/// same arithmetic and Skia call as ML.NET's ResizeImages with IsoCrop, so an image decoded whole gives
/// the saved model's pixels to within two levels even on fine texture. JPEGs at least twice the target
/// are decoded at ⅛, ¼, ⅜ or ½ scale inside the decoder (DCT scaling: a 1600×1200 photo for a
/// 256 target is decoded at 400×300), which skips most of the work on large photos.
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
    public const string Version = "4";

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
        var scaled = DecodedSize(codec, size);
        var decodeInfo = new SKImageInfo(scaled.Width, scaled.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(decodeInfo);
        var truncated = image.Outcome(codec.GetPixels(decodeInfo, decoded.GetPixels()), acceptTruncated);
        Crop(name, decoded, size, destination);
        return truncated;
    }

    // The smallest of the decoder's k/8 scales (k ≤ 4: only images at least twice the target) that still
    // covers the target square. GetScaledDimensions rounds to the nearest supported scale, which can fall
    // below the target, so each candidate is checked rather than asking for the exact ratio.
    internal static SKSizeI DecodedSize(SKCodec codec, int size)
    {
        for (var eighths = 1; eighths <= 4; eighths++)
        {
            var scaled = codec.GetScaledDimensions(eighths / 8f);
            if (scaled.Width >= size && scaled.Height >= size) return scaled;
        }
        return new SKSizeI(codec.Info.Width, codec.Info.Height);
    }

    // Scale so the image covers size×size and take the centre square exactly as the saved model's
    // ResizeImages(IsoCrop) does (ML.NET's MLImage.ResizeWithCrop): the same float arithmetic for the
    // scale, the truncated size and the truncated centring offset, and the same Skia call — the whole
    // image drawn into the square's canvas with high filter quality. Resizing first and cropping after
    // rounds the size differently (a 300×220 image became 349×256 here and 349×255 there), which flat
    // test images hide and any texture shows.
    private static void Crop(string name, SKBitmap image, int size, Span<float> destination)
    {
        var widthAspect = (float)size / image.Width;
        var heightAspect = (float)size / image.Height;
        float aspect;
        int left = 0, top = 0;
        if (heightAspect < widthAspect)
        {
            aspect = widthAspect;
            top = (int)((size - image.Height * aspect) / 2);
        }
        else
        {
            aspect = heightAspect;
            left = (int)((size - image.Width * aspect) / 2);
        }
        var target = new SKRect(left, top, left + (int)(image.Width * aspect), top + (int)(image.Height * aspect));
        using var source = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(source))
        using (var paint = new SKPaint { FilterQuality = SKFilterQuality.High })
        {
            canvas.Clear(SKColors.Transparent); // transparency ends up over black, as LoadImages gives it
            canvas.DrawBitmap(image, new SKRect(0, 0, image.Width, image.Height), target, paint);
        }
        if (source.GetPixels() == IntPtr.Zero) throw new BadImageException(name, $"could not be resized from {image.Width}×{image.Height} to cover {size}×{size}");
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
}
