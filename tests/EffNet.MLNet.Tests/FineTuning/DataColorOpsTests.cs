using EffNet.MLNet.FineTuning.Data;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>
/// The colour operations against Pillow 9.4 (Debian's python3-pil), which torchvision's TrivialAugment calls on PIL
/// images. Expected values were printed by /usr/bin/python3 with <c>ImageEnhance.X(im).enhance(f)</c> and
/// <c>ImageOps.x(im)</c> on the 4×4 image below, as planar RGB. Pillow rounds to bytes at each step (its grey mean,
/// its smoothed image) and ours stays in floats, and truncates its blends, hence the tolerance of a level and a half.
/// </summary>
public class DataColorOpsTests
{
    private static readonly byte[,,] Image =
    {
        { { 200, 100, 50 }, { 10, 20, 30 }, { 240, 250, 5 }, { 128, 64, 32 } },
        { { 0, 0, 0 }, { 255, 255, 255 }, { 90, 180, 45 }, { 60, 60, 200 } },
        { { 30, 160, 90 }, { 200, 50, 120 }, { 90, 90, 220 }, { 140, 210, 20 } },
        { { 5, 5, 5 }, { 250, 240, 230 }, { 100, 150, 200 }, { 77, 88, 99 } },
    };

    private static float[] Planar()
    {
        var pixels = new float[48];
        for (var y = 0; y < 4; y++)
            for (var x = 0; x < 4; x++)
                for (var c = 0; c < 3; c++)
                    pixels[c * 16 + y * 4 + x] = Image[y, x, c];
        return pixels;
    }

    public static TheoryData<string, int[]> Pillow => new()
    {
        { "contrast 0.5", [158, 63, 178, 122, 58, 186, 103, 88, 73, 158, 103, 128, 61, 183, 108, 97, 108, 68, 183, 90, 58, 186, 148, 88, 138, 83, 103, 163, 61, 178, 133, 102, 83, 73, 61, 74, 58, 186, 81, 158, 103, 118, 168, 68, 61, 173, 158, 108] },
        { "color 0.3", [146, 15, 225, 93, 0, 255, 123, 71, 88, 132, 100, 158, 5, 244, 128, 83, 116, 18, 228, 74, 0, 255, 150, 71, 127, 87, 100, 179, 5, 241, 143, 86, 101, 21, 154, 64, 0, 255, 110, 113, 106, 108, 139, 122, 5, 238, 158, 89] },
        { "brightness 1.5", [255, 15, 255, 192, 0, 255, 135, 90, 45, 255, 135, 210, 7, 255, 150, 115, 150, 30, 255, 96, 0, 255, 255, 90, 240, 75, 135, 255, 7, 255, 225, 132, 75, 45, 7, 48, 0, 255, 67, 255, 135, 180, 255, 30, 7, 255, 255, 148] },
        { "sharpness 0", [200, 10, 240, 128, 0, 164, 121, 60, 30, 140, 125, 140, 5, 250, 100, 77, 100, 20, 250, 64, 0, 163, 146, 60, 160, 102, 129, 210, 5, 240, 150, 88, 50, 30, 5, 32, 0, 141, 85, 200, 90, 127, 175, 20, 5, 230, 200, 99] },
        { "sharpness 1.8", [200, 10, 240, 128, 0, 255, 65, 60, 30, 248, 62, 140, 5, 250, 100, 77, 100, 20, 250, 64, 0, 255, 207, 60, 160, 8, 58, 210, 5, 240, 150, 88, 50, 30, 5, 32, 0, 255, 13, 200, 90, 114, 255, 20, 5, 230, 200, 99] },
        { "posterize 5", [200, 8, 240, 128, 0, 248, 88, 56, 24, 200, 88, 136, 0, 248, 96, 72, 96, 16, 248, 64, 0, 248, 176, 56, 160, 48, 88, 208, 0, 240, 144, 88, 48, 24, 0, 32, 0, 248, 40, 200, 88, 120, 216, 16, 0, 224, 200, 96] },
        { "solarize 100", [55, 10, 15, 127, 0, 0, 90, 60, 30, 55, 90, 115, 5, 5, 155, 77, 155, 20, 5, 64, 0, 0, 75, 60, 95, 50, 90, 45, 5, 15, 105, 88, 50, 30, 5, 32, 0, 0, 45, 55, 90, 135, 35, 20, 5, 25, 55, 99] },
    };

    // Mutation: ColorOps.Contrast blends with each pixel's own grey instead of the image's mean -> fails.
    // Mutation: ColorOps.Sharpness weighs the centre 4 instead of 5 (sum / 12) -> fails.
    [Theory]
    [MemberData(nameof(Pillow))]
    public void Colour_operations_match_pillow_within_rounding(string operation, int[] expected)
    {
        var pixels = Planar();
        var parts = operation.Split(' ');
        var value = float.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        switch (parts[0])
        {
            case "contrast": ColorOps.Contrast(pixels, value); break;
            case "color": ColorOps.Saturation(pixels, value); break;
            case "brightness": ColorOps.Brightness(pixels, value); break;
            case "sharpness": ColorOps.Sharpness(pixels, 4, value); break;
            case "posterize": ColorOps.Posterize(pixels, (int)value); break;
            case "solarize": ColorOps.Solarize(pixels, value); break;
            default: throw new ArgumentException(operation);
        }
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(pixels[i] - expected[i]) <= 1.5, $"{operation}: value {i} is {pixels[i]}, Pillow gives {expected[i]}");
    }

    // 1024 pixels: 510 of 10, 510 of 100, 4 of 200. Pillow's equalize gives 0, 128, 255 (step 1020 // 255 = 4).
    // Mutation: the step divides by 256 -> fails (100 becomes 170).
    [Fact]
    public void Equalize_matches_pillow()
    {
        var pixels = new float[3 * 1024];
        for (var c = 0; c < 3; c++)
            for (var i = 0; i < 1024; i++)
                pixels[c * 1024 + i] = i < 510 ? 10 : i < 1020 ? 100 : 200;
        ColorOps.Equalize(pixels);
        Assert.Equal([0f, 128f, 255f], pixels.Distinct().Order().ToArray());
        Assert.Equal(128f, pixels[600]);
    }

    // A channel spanning 50…150 is stretched to 0…255 (torchvision on float tensors: no rounding); a flat one is kept.
    [Fact]
    public void Autocontrast_stretches_each_channel_on_its_own()
    {
        float[] pixels = [50, 100, 150, 150, 7, 7, 7, 7, 0, 255, 10, 20];
        ColorOps.AutoContrast(pixels);
        Assert.Equal([0f, 127.5f, 255f, 255f, 7, 7, 7, 7, 0, 255, 10, 20], pixels);
    }
}
