using EffNet.MLNet.Imaging;
using SkiaSharp;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The fast decoder against ML.NET 6's own LoadImages → ResizeImages (IsoCrop) → ExtractPixels, value
/// for value, on textured JPEGs and PNGs of shapes that exercise ML.NET's truncated crop geometry.
/// </summary>
public class FastImageDecoderTests
{
    // High-frequency texture (a fine checkerboard with a diagonal ramp and noise), so any change of filter,
    // scale or offset moves many values.
    private static string Textured(TempDir dir, int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var random = new Random(width * 31 + height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var check = ((x / 3) + (y / 3)) % 2 == 0 ? 180 : 60;
                bitmap.SetPixel(x, y, new SKColor((byte)check, (byte)((x + y) * 255 / (width + height)), (byte)random.Next(256)));
            }
        var path = dir.File($"{width}x{height}.{(format == SKEncodedImageFormat.Png ? "png" : "jpg")}");
        using var data = bitmap.Encode(format, 92);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    // Shapes: a large landscape JPEG (a reduced-scale decode would be antialiased where ML.NET's draw is not),
    // portrait, a size whose scaled width truncates (ML.NET draws into floor(w·s)), and a small upscaled PNG.
    // Mutation: bilinear instead of Mitchell -> all four fail (checked). The ⅛–½-scale JPEG decode this
    // decoder made before ML.NET 6 failed TrainServeParityTests on the 24 MP odd image (feature cosine 0.986).
    [Theory]
    [InlineData(1600, 1200, SKEncodedImageFormat.Jpeg)]
    [InlineData(300, 533, SKEncodedImageFormat.Jpeg)]
    [InlineData(641, 487, SKEncodedImageFormat.Png)]
    [InlineData(150, 97, SKEncodedImageFormat.Png)]
    public void Pixels_equal_the_stock_chains_value_for_value(int width, int height, SKEncodedImageFormat format)
    {
        using var dir = new TempDir();
        var path = Textured(dir, width, height, format);
        var size = TrainServeParityTests.Size;
        var fast = new float[3 * size * size];
        FastImageDecoder.Decode(path, size, fast);
        var stock = TrainServeParityTests.StockPixels([path])[0];
        var differing = 0;
        var worst = 0f;
        for (var i = 0; i < fast.Length; i++)
        {
            var d = Math.Abs(fast[i] - stock[i]);
            if (d > 0) differing++;
            worst = Math.Max(worst, d);
        }
        Assert.True(differing == 0, $"{width}×{height}: {differing} of {fast.Length} values differ from ML.NET's, worst by {worst}");
    }
}
