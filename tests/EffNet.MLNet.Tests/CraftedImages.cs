using SkiaSharp;

namespace EffNet.MLNet.Tests;

/// <summary>Damaged images made in the test from a clean picture: a corrupt body behind a valid header, a file cut short, a web page named .jpg.</summary>
internal static class CraftedImages
{
    /// <summary>A 400×300 colour gradient, encoded.</summary>
    public static byte[] Encoded(SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(400, 300);
        for (var y = 0; y < 300; y++)
            for (var x = 0; x < 400; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)x, (byte)y, (byte)(x + y)));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>
    /// The same bytes with 200 scrambled from <paramref name="from"/> (default: the middle); the header
    /// and the end markers stay valid. A WebP's compressed data starts at byte 30.
    /// </summary>
    public static byte[] DamagedBody(byte[] bytes, int? from = null)
    {
        var damaged = (byte[])bytes.Clone();
        var start = from ?? bytes.Length / 2;
        for (var i = start; i < start + 200; i++) damaged[i] = (byte)(damaged[i] * 7 + 13);
        return damaged;
    }

    /// <summary>The same bytes with the second half overwritten by 0xFF: the decoder runs dry inside a file that is whole.</summary>
    public static byte[] BlankedSecondHalf(byte[] bytes)
    {
        var damaged = (byte[])bytes.Clone();
        Array.Fill(damaged, (byte)0xFF, bytes.Length / 2, bytes.Length - bytes.Length / 2);
        return damaged;
    }

    /// <summary>A lossy WebP whose compressed data is scrambled behind a valid RIFF header.</summary>
    public static byte[] DamagedWebp() => DamagedBody(Encoded(SKEncodedImageFormat.Webp), from: 40);

    /// <summary>The first third of the bytes, as a download that stopped.</summary>
    public static byte[] CutToThird(byte[] bytes) => bytes[..(bytes.Length / 3)];

    public const string Html = "<!DOCTYPE html><html><body>404 Not Found</body></html>";

    /// <summary>A clean JPEG, a damaged WebP, a JPEG cut to a third and an HTML page named .jpg, written to <paramref name="folder"/>.</summary>
    public static (string Good, string DamagedWebp, string TruncatedJpeg, string Html) WriteSet(string folder)
    {
        Directory.CreateDirectory(folder);
        var jpeg = Encoded(SKEncodedImageFormat.Jpeg);
        var set = (Path.Combine(folder, "good.jpg"), Path.Combine(folder, "damaged.webp"), Path.Combine(folder, "cut.jpg"), Path.Combine(folder, "page.jpg"));
        File.WriteAllBytes(set.Item1, jpeg);
        File.WriteAllBytes(set.Item2, DamagedWebp());
        File.WriteAllBytes(set.Item3, CutToThird(jpeg));
        File.WriteAllText(set.Item4, Html);
        return set;
    }
}
