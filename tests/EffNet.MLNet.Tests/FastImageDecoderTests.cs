using EffNet.MLNet.Imaging;
using SkiaSharp;

namespace EffNet.MLNet.Tests;

public class FastImageDecoderTests
{
    private static string Jpeg(TempDir dir, int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { Color = SKColors.Orange })
        {
            canvas.Clear(SKColors.SteelBlue);
            canvas.DrawCircle(width / 2f, height / 2f, height / 3f, paint);
        }
        var path = dir.File($"{width}x{height}.jpg");
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    private static SKSizeI DecodedSize(string path, int size)
    {
        using var codec = SKCodec.Create(path);
        return FastImageDecoder.DecodedSize(codec, size);
    }

    // The decoder's own rounding of 256/1200 is ⅛ (200×150), too small to cover the target; the
    // choice must go up to the next scale that covers it, not fall back to a full decode.
    [Theory]
    [InlineData(256, 400, 300)]
    [InlineData(224, 400, 300)]
    [InlineData(300, 400, 300)]
    [InlineData(301, 600, 450)]
    [InlineData(451, 800, 600)]
    [InlineData(600, 800, 600)]
    [InlineData(601, 1600, 1200)]
    public void Large_jpegs_are_decoded_at_the_smallest_scale_that_covers_the_target(int size, int width, int height)
    {
        using var dir = new TempDir();
        Assert.Equal(new SKSizeI(width, height), DecodedSize(Jpeg(dir, 1600, 1200), size));
    }

    [Fact]
    public void Images_less_than_twice_the_target_are_decoded_whole()
    {
        using var dir = new TempDir();
        Assert.Equal(new SKSizeI(400, 300), DecodedSize(Jpeg(dir, 400, 300), 256));
        Assert.Equal(new SKSizeI(300, 400), DecodedSize(Jpeg(dir, 300, 400), 160));
    }

    [Fact]
    public void A_photo_decoded_at_a_quarter_scale_matches_the_full_decode_pixel_for_pixel_within_jpeg_noise()
    {
        using var dir = new TempDir();
        var path = Jpeg(dir, 1600, 1200);
        var fast = new float[3 * 256 * 256];
        FastImageDecoder.Decode(path, 256, fast);

        // Reference: full-size decode, then the same cubic resize and centre crop.
        using var full = SKBitmap.Decode(path);
        using var resized = full.Resize(new SKImageInfo(341, 256, SKColorType.Rgba8888, SKAlphaType.Premul), SKFilterQuality.High);
        double total = 0;
        for (var y = 0; y < 256; y++)
            for (var x = 0; x < 256; x++)
            {
                var c = resized.GetPixel(x + 42, y);
                total += Math.Abs(fast[y * 256 + x] - c.Red) + Math.Abs(fast[65536 + y * 256 + x] - c.Green) + Math.Abs(fast[131072 + y * 256 + x] - c.Blue);
            }
        var meanError = total / (3 * 256 * 256);
        Assert.True(meanError < 2.0, $"mean absolute difference {meanError:F2} of 255");
        Assert.InRange(fast[128 * 256 + 128], 200, 255); // the orange disc's red channel at the centre
    }
}
