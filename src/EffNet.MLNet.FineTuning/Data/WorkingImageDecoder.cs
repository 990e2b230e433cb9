using EffNet.MLNet.Imaging;
using SkiaSharp;

namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// Decodes a training image with the library's decoder (the same header checks, limits, colour handling and
/// transparency over black that serving uses) to a working size: the shorter side made <c>side</c> pixels,
/// the aspect ratio kept, with Pillow's antialiased filter of the evaluation transform. The decode is at full
/// resolution, as serving's is: a reduced-scale JPEG decode would give pixels the saved model never sees.
/// </summary>
internal static class WorkingImageDecoder
{
    /// <exception cref="BadImageException">The file is missing, not an image, damaged, too large, or truncated and not accepted.</exception>
    public static WorkingImage Decode(string path, int side, ResampleFilter filter, bool acceptTruncated, long maxPixels)
    {
        using var image = OpenedImage.Open(path, maxPixels);
        var codec = image.Codec;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(info);
        if (decoded.GetPixels() == IntPtr.Zero)
            throw new BadImageException(path, $"is too large to decode ({info.Width}×{info.Height})");
        image.Outcome(codec.GetPixels(info, decoded.GetPixels()), acceptTruncated);
        var (width, height) = TorchvisionImageDecoder.ResizedSize(info.Width, info.Height, side);
        var rgb = AntialiasedResize.Resize(decoded.GetPixelSpan(), info.Width, info.Height, decoded.RowBytes, width, height, filter, (0, 0, width, height));
        return new WorkingImage(width, height, rgb);
    }
}
