using EffNet.MLNet.FineTuning.Data;
using EffNet.MLNet.Imaging;
using SkiaSharp;

namespace EffNet.MLNet.Tests.FineTuning;

public class DataWorkingImageTests
{
    [Theory]
    [InlineData(90, 60, 30, 45, 30)]
    [InlineData(60, 90, 30, 30, 45)]
    [InlineData(20, 16, 40, 50, 40)]
    public void The_working_image_has_the_asked_shorter_side_and_keeps_the_aspect(int width, int height, int side, int expectedWidth, int expectedHeight)
    {
        using var dir = new TempDir();
        var path = DataImages.Busy(dir, "busy.png", width, height);
        var image = WorkingImageDecoder.Decode(path, side, ResampleFilter.Bicubic, acceptTruncated: false, ImageCheck.DefaultMaxPixels);
        Assert.Equal((expectedWidth, expectedHeight), (image.Width, image.Height));
        Assert.Equal(3 * expectedWidth * expectedHeight, image.Rgb.Length);
    }

    // Training sees the pixels serving sees: a half-transparent PNG already at the working size comes out as the
    // library's own full decode (premultiplied: composited over black), byte for byte.
    // Mutation: WorkingImageDecoder decodes with SKAlphaType.Unpremul -> fails.
    [Fact]
    public void Transparency_is_composited_over_black_as_the_librarys_decoder_does()
    {
        using var dir = new TempDir();
        const int Width = 36, Height = 24;
        var path = dir.File("translucent.png");
        using (var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            for (var y = 0; y < Height; y++)
                for (var x = 0; x < Width; x++)
                    bitmap.SetPixel(x, y, new SKColor((byte)(7 * x), (byte)(200 - 5 * y), 180, (byte)(x < Width / 2 ? 255 : 90)));
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(path, data.ToArray());
        }
        var working = WorkingImageDecoder.Decode(path, Height, ResampleFilter.Bicubic, acceptTruncated: false, ImageCheck.DefaultMaxPixels);
        var library = MLImageDecoder.DecodeFile(path);
        Assert.Equal((Width, Height), (working.Width, working.Height));
        var rgba = library.Pixels;
        for (var i = 0; i < Width * Height; i++)
            for (var c = 0; c < 3; c++)
                Assert.Equal(rgba[4 * i + c], working.Rgb[3 * i + c]);
        // The right half is dimmed to 90/255 of its colour: composited, not dropped.
        Assert.InRange(working.Rgb[3 * (Width - 1) + 2], 60, 66);
    }
}
