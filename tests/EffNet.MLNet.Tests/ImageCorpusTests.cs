using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Tests;

/// <summary>Odd but valid images, made by the fixture script with Pillow, through the fast decoder.</summary>
public class ImageCorpusTests
{
    private const int Size = 64;

    private static float[] Decode(string name)
    {
        var path = ImageCorpus.File(name);
        Assert.Null(ImageCheck.Problem(path));
        var pixels = new float[3 * Size * Size];
        FastImageDecoder.Decode(path, Size, pixels);
        return pixels;
    }

    private static (float R, float G, float B) At(float[] p, int x, int y) =>
        (p[y * Size + x], p[Size * Size + y * Size + x], p[2 * Size * Size + y * Size + x]);

    private static void AssertColour((float R, float G, float B) actual, (int R, int G, int B) expected, string where)
    {
        Assert.True(Math.Abs(actual.R - expected.R) < 40 && Math.Abs(actual.G - expected.G) < 40 && Math.Abs(actual.B - expected.B) < 40,
            $"{where}: got ({actual.R:F0}, {actual.G:F0}, {actual.B:F0}), expected {expected}");
    }

    [Theory]
    [InlineData("upright.png")]
    [InlineData("animated.gif")]
    [InlineData("photo.webp")]
    [InlineData("café crème 写真.jpg")]
    public void Quadrants_come_out_upright(string name)
    {
        var p = Decode(name);
        AssertColour(At(p, 10, 10), (255, 0, 0), name + " top-left");
        AssertColour(At(p, Size - 10, 10), (0, 255, 0), name + " top-right");
        AssertColour(At(p, 10, Size - 10), (0, 0, 255), name + " bottom-left");
        AssertColour(At(p, Size - 10, Size - 10), (255, 255, 255), name + " bottom-right");
    }

    // EXIF orientation is ignored, as ML.NET's LoadImages (what the saved model runs), PIL and
    // torchvision ignore it: the stored pixels come out as stored, so training sees what serving sees.
    [Theory]
    [InlineData("exif-3.jpg", 255, 255, 255, 0, 0, 255)]   // stored rotated 180°: white top-left, blue top-right
    [InlineData("exif-6.jpg", 0, 255, 0, 255, 255, 255)]   // stored rotated 90° anticlockwise: green, white
    [InlineData("exif-8.jpg", 0, 0, 255, 255, 0, 0)]       // stored rotated 90° clockwise: blue, red
    public void Exif_orientation_is_ignored(string name, int tlR, int tlG, int tlB, int trR, int trG, int trB)
    {
        var p = Decode(name);
        AssertColour(At(p, 10, 10), (tlR, tlG, tlB), name + " top-left");
        AssertColour(At(p, Size - 10, 10), (trR, trG, trB), name + " top-right");
    }

    [Fact]
    public void Cmyk_sixteen_bit_palette_and_one_pixel_images_decode_to_their_colours()
    {
        var cmyk = Decode("cmyk.jpg");
        AssertColour(At(cmyk, 10, 10), (255, 0, 0), "CMYK top-left");
        var gray = Decode("gray16.png");
        AssertColour(At(gray, 30, 30), (156, 156, 156), "16-bit gray");
        var one = Decode("one-pixel.png");
        AssertColour(At(one, 0, 0), (10, 200, 30), "1x1");
        AssertColour(At(one, Size - 1, Size - 1), (10, 200, 30), "1x1 scaled");
        var palette = Decode("palette-transparent.png");
        Assert.All(palette, v => Assert.InRange(v, 0f, 255f));
    }
}
