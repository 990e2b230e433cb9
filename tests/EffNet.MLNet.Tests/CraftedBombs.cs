using System.IO.Compression;
using SkiaSharp;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Decompression bombs under the 180-megapixel limit, built at test time: small files whose headers
/// declare images that would take hundreds of megabytes decoded (issue 21's findings).
/// </summary>
internal static class CraftedBombs
{
    /// <summary>A 35-byte GIF whose logical screen is <paramref name="side"/>² and whose one frame is a single pixel.</summary>
    public static byte[] Gif(int side = 13_000)
    {
        var gif = new List<byte>("GIF89a"u8.ToArray());
        gif.AddRange([(byte)side, (byte)(side >> 8), (byte)side, (byte)(side >> 8), 0x80, 0, 0]);   // screen, 2-colour global table
        gif.AddRange([0, 0, 0, 255, 255, 255]);
        gif.AddRange([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);   // one 1×1 frame at the origin
        gif.AddRange([2, 2, 0x44, 0x01, 0]);               // LZW: clear, pixel 0, end (3-bit codes)
        gif.Add(0x3B);
        return [.. gif];
    }

    /// <summary>A 1-bit greyscale PNG of <paramref name="side"/>², all black: its zero rows deflate about a thousandfold (13,000² → about 20 KB).</summary>
    public static byte[] Png(int side = 13_000)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + (side + 7) / 8];   // filter byte 0, then zero bits
            for (var y = 0; y < side; y++) zlib.Write(row);
        }
        var png = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };
        Chunk(png, "IHDR", [.. BigEndian(side), .. BigEndian(side), 1, 0, 0, 0, 0]);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return [.. png];
    }

    /// <summary>A small real JPEG whose frame header is rewritten to declare <paramref name="side"/>² (its data stops after a few blocks).</summary>
    public static byte[] Jpeg(int side = 13_400)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Premul));
        bitmap.Erase(SKColors.SteelBlue);
        var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90).ToArray();
        for (var at = 2; at + 8 < jpeg.Length; at++)
        {
            if (jpeg[at] != 0xFF || jpeg[at + 1] is not (0xC0 or 0xC1 or 0xC2)) continue;
            jpeg[at + 5] = (byte)(side >> 8); jpeg[at + 6] = (byte)side;   // height
            jpeg[at + 7] = (byte)(side >> 8); jpeg[at + 8] = (byte)side;   // width
            return jpeg;
        }
        throw new InvalidOperationException("The encoder wrote no frame header.");
    }

    private static void Chunk(List<byte> png, string type, byte[] data)
    {
        png.AddRange(BigEndian(data.Length));
        var body = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.AddRange(body);
        png.AddRange(BigEndian((int)Crc32(body)));
    }

    private static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
