namespace EffNet.MLNet.Imaging;

/// <summary>
/// The memory a decode may take, planned from the header before any pixel is allocated. Every
/// decoder here holds one full-size RGBA copy of the image (4 bytes a pixel): that buffer is what
/// the budget bounds. A second rule catches compression bombs the budget alone lets through:
/// an image of more than <see cref="RatioFloorPixels"/> pixels may declare at most
/// <see cref="MaxPixelsPerEncodedByte"/> pixels per byte of its file.
/// </summary>
internal static class DecodeBudget
{
    /// <summary>
    /// Pixels a file may declare per byte it holds. Camera photos hold 2–50 (a 24 MP JPEG is 4–15 MB);
    /// JPEG cannot go past about 150 even for a flat colour (a few bits per 8×8 block); only flat
    /// synthetic graphics (a palette or 1-bit PNG, a GIF) reach 1,000. A 20 KB 1-bit PNG declaring
    /// 13,000² declares 8,450; a 62-byte GIF declaring a 13,000² screen, 2.7 million.
    /// </summary>
    public const int MaxPixelsPerEncodedByte = 1_000;

    /// <summary>
    /// The largest image file read: 256 MiB. Camera JPEGs are 4–60 MB and a photo's PNG within the decoding
    /// budget rarely passes 200 MB; a larger file (a disk image, a sparse file named .jpg) is refused from its
    /// length before anything is read into memory, which also keeps file plus pixels under 1 GB.
    /// </summary>
    public const long MaxEncodedBytes = 256L << 20;

    /// <summary>Images up to this many pixels (4 MP, a 16 MiB buffer) are not held to the ratio: they cost little whatever their file.</summary>
    public const long RatioFloorPixels = 4_000_000;

    /// <summary>Null when a <paramref name="width"/>×<paramref name="height"/> image in a file of <paramref name="encodedBytes"/> may be decoded, else the reason.</summary>
    public static string? Problem(int width, int height, long encodedBytes, long maxPixels, long maxDecodedBytes)
    {
        if (width <= 0 || height <= 0) return $"declares an invalid size {width}×{height}";
        var pixels = (long)width * height;   // each side is below 2^31: the product fits
        if (pixels > maxPixels)
            return $"declares {width}×{height} pixels, more than the limit of {maxPixels:N0} (a decompression bomb?)";
        var bytes = pixels > long.MaxValue / 4 ? long.MaxValue : pixels * 4;
        if (bytes > maxDecodedBytes)
            return $"declares {width}×{height} pixels, {Mebibytes(bytes)} decoded, more than the decoding budget of {Mebibytes(maxDecodedBytes)}";
        if (pixels > RatioFloorPixels && encodedBytes > 0 && pixels > encodedBytes * MaxPixelsPerEncodedByte)
            return $"declares {width}×{height} pixels in {encodedBytes:N0} bytes, over {MaxPixelsPerEncodedByte:N0} pixels a byte (a decompression bomb?)";
        return null;
    }

    private static string Mebibytes(long bytes) => $"{bytes / (1024.0 * 1024.0):N0} MiB";
}
