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
public static class MLImageDecoder
{
    /// <summary>Decode <paramref name="bytes"/>; <paramref name="name"/> is how errors name the input (an upload's file name).</summary>
    /// <exception cref="BadImageException">The bytes are not a usable image; the reason says why.</exception>
    public static MLImage Decode(ReadOnlySpan<byte> bytes, string name, long maxPixels = ImageCheck.DefaultMaxPixels, bool acceptTruncated = false)
    {
        if (bytes.IsEmpty) throw new BadImageException(name, "is empty (0 bytes)");
        using var data = SKData.CreateCopy(bytes);
        return Decode(data, name, maxPixels, acceptTruncated);
    }

    /// <summary>Decode the image file at <paramref name="path"/> (read whole, then decoded in memory).</summary>
    /// <exception cref="BadImageException">The file is missing, unreadable or not a usable image.</exception>
    public static MLImage DecodeFile(string path, long maxPixels = ImageCheck.DefaultMaxPixels, bool acceptTruncated = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new BadImageException(path, "is a directory, not an image file");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new BadImageException(path, "does not exist"); }
        catch (DirectoryNotFoundException) { throw new BadImageException(path, "does not exist"); }
        catch (UnauthorizedAccessException) { throw new BadImageException(path, "cannot be read (permission denied)"); }
        catch (IOException ex) { throw new BadImageException(path, $"cannot be read ({ex.Message})", ex); }
        return Decode(bytes, path, maxPixels, acceptTruncated);
    }

    /// <summary>Decode everything <paramref name="stream"/> holds from its current position.</summary>
    /// <exception cref="BadImageException">The stream's content is not a usable image.</exception>
    public static MLImage Decode(Stream stream, string name, long maxPixels = ImageCheck.DefaultMaxPixels, bool acceptTruncated = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), name, maxPixels, acceptTruncated);
    }

    private static MLImage Decode(SKData data, string name, long maxPixels, bool acceptTruncated)
    {
        using var codec = SKCodec.Create(data)
            ?? throw new BadImageException(name, "is not an image the decoder can read (not JPEG, PNG, WebP, GIF or BMP data)");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0) throw new BadImageException(name, $"declares an invalid size {info.Width}×{info.Height}");
        if ((long)info.Width * info.Height > maxPixels)
            throw new BadImageException(name, $"declares {info.Width}×{info.Height} pixels, more than the limit of {maxPixels:N0} (a decompression bomb?)");

        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(target);
        var status = codec.GetPixels(target, bitmap.GetPixels());
        switch (status)
        {
            case SKCodecResult.Success:
                break;
            case SKCodecResult.IncompleteInput when acceptTruncated:
                break;
            case SKCodecResult.IncompleteInput:
                throw new BadImageException(name, "is truncated (the image data ends early; accept truncated images explicitly to use the rows that are there)");
            case SKCodecResult.InvalidInput:
            case SKCodecResult.ErrorInInput:
                throw new BadImageException(name, "is corrupt (the header is valid but the image data cannot be decoded)");
            default:
                throw new BadImageException(name, $"could not be decoded ({status})");
        }
        return MLImage.CreateFromPixels(info.Width, info.Height, MLPixelFormat.Rgba32, bitmap.GetPixelSpan());
    }
}
