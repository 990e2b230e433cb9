using System.Buffers.Binary;
using SkiaSharp;

namespace EffNet.MLNet.Imaging;

/// <summary>
/// Tells a truncated image from a damaged one. A decoder that runs out of data says only
/// "incomplete input"; whether the file was cut short, or is whole and corrupt inside, shows in
/// its container: every format records where it ends (JPEG's EOI marker, PNG's IEND chunk, the
/// GIF trailer, the RIFF and BMP size fields).
/// </summary>
internal static class ImageEnd
{
    /// <summary>True when <paramref name="bytes"/> stop before the end the format declares.</summary>
    public static bool EndsEarly(ReadOnlySpan<byte> bytes, SKEncodedImageFormat format)
    {
        var tail = bytes.TrimEnd((byte)0); // padding after the end marker is harmless
        return format switch
        {
            SKEncodedImageFormat.Jpeg => !tail.EndsWith((ReadOnlySpan<byte>)[0xFF, 0xD9]),
            SKEncodedImageFormat.Png => tail.Length < 12 || tail[^12..].IndexOf("IEND"u8) < 0,
            SKEncodedImageFormat.Gif => tail.IsEmpty || tail[^1] != 0x3B,
            SKEncodedImageFormat.Webp => bytes.Length < 12 || bytes.Length < 8 + (long)BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..8]),
            SKEncodedImageFormat.Bmp => bytes.Length < 6 || BinaryPrimitives.ReadUInt32LittleEndian(bytes[2..6]) is var size && (size == 0 || bytes.Length < size),
            _ => true, // no way to tell: a decoder that wanted more data most likely did not get it
        };
    }
}
