using EffNet.MLNet.FineTuning.Data;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Tests.FineTuning;

public class DataAugmentTests
{
    // +1 when the red region's mean column lies right of the blue region's (a mirror), −1 when left of it, 0 when one
    // of them is under 5% of the image (a crop inside one half, or an operation that blacked both out). Comparing the
    // two regions' positions, not absolute ones, lets translation and crops pass.
    private static int Handedness(ReadOnlySpan<float> pixels, int side)
    {
        var plane = side * side;
        double redX = 0, blueX = 0;
        int reds = 0, blues = 0;
        for (var i = 0; i < plane; i++)
        {
            var difference = pixels[i] - pixels[2 * plane + i];
            if (difference > 100) { redX += i % side; reds++; }
            else if (difference < -100) { blueX += i % side; blues++; }
        }
        if (reds < plane / 20 || blues < plane / 20) return 0;
        return redX / reds > blueX / blues ? 1 : -1;
    }

    private static (int Kept, int Mirrored) CountMirrored(string path, AugmentOptions options)
    {
        const int Side = 24, Copies = 40;
        var images = Enumerable.Range(0, Copies).Select(_ => new LabeledImage(path, 0)).ToArray();
        var preparation = new ImagePreparation(Preprocessing.Fast, Side, Side, ResampleFilter.Bicubic);
        var batches = new TrainingBatches(images, preparation, Copies, options, 21);
        var pixels = new float[Copies * batches.ImageFloats];
        int kept = 0, mirrored = 0;
        for (var epoch = 0; epoch < 5; epoch++)
        {
            batches.Fill(epoch, 0, pixels, new int[Copies]);
            for (var i = 0; i < Copies; i++)
            {
                var h = Handedness(pixels.AsSpan(i * batches.ImageFloats, batches.ImageFloats), Side);
                if (h > 0) mirrored++;
                else if (h < 0) kept++;
            }
        }
        return (kept, mirrored);
    }

    // 200 draws of each preset with default options: the red half never lands right of the blue half. Crops,
    // rotation, shear, translation and the colour operations keep it left or blank it; only a mirror moves it right.
    // Strong is checked with jitter off: solarizing a jittered image can swap which channel is larger across a whole
    // region (red turns blue), which a colour test cannot tell from a mirror although no pixel moved.
    // Mutation: AugmentOptions.For's horizontalFlip defaults to true -> fails.
    [Theory]
    [InlineData("light")]
    [InlineData("strong")]
    public void Default_options_never_mirror_an_image(string preset)
    {
        using var dir = new TempDir();
        var path = DataImages.RedLeftBlueRight(dir);
        var options = AugmentOptions.For(AugmentOptions.Parse(preset));
        if (options.TrivialAugment) options = options with { Jitter = 0 };
        var (kept, mirrored) = CountMirrored(path, options);
        Assert.Equal(0, mirrored);
        Assert.True(kept > 50, $"only {kept} of 200 draws showed which side red is on; the check would see nothing");
        // The same check sees the mirror when flips are asked for.
        var flipped = CountMirrored(path, options with { HorizontalFlip = true });
        Assert.InRange(flipped.Mirrored, 30, 170);
    }

    // Mutation: RandomResizedCrop.Sample draws the area fraction from [0, scale.Max] (random.Uniform(0, scale.Max)) -> fails.
    // Mutation: the log-aspect drawn from [log ratio.Max, log ratio.Max] (no spread) -> fails.
    [Theory]
    [InlineData("light", 0.35)]
    [InlineData("strong", 0.08)]
    public void Random_resized_crops_keep_the_presets_area_and_ratio_ranges(string preset, double minScale)
    {
        var options = AugmentOptions.For(AugmentOptions.Parse(preset));
        Assert.Equal((minScale, 1.0), options.CropScale);
        const int Width = 400, Height = 300;
        var fractions = new List<double>();
        var ratios = new List<double>();
        for (var i = 0; i < 3000; i++)
        {
            var random = SeededRandom.For(1, 0, i);
            var box = RandomResizedCrop.Sample(ref random, Width, Height, options.CropScale, options.CropRatio);
            Assert.InRange(box.X, 0, Width - box.Width);
            Assert.InRange(box.Y, 0, Height - box.Height);
            fractions.Add((double)box.Width * box.Height / (Width * Height));
            ratios.Add((double)box.Width / box.Height);
        }
        // Whole-pixel rounding moves a side by at most half a pixel: 1% of area and ratio at these sizes.
        Assert.InRange(fractions.Min(), minScale * 0.99, minScale + 0.03);
        Assert.InRange(fractions.Max(), 0.95, 1.0);
        Assert.InRange(ratios.Min(), 0.75 * 0.99, 0.78);
        Assert.InRange(ratios.Max(), 1.30, 4.0 / 3 * 1.01);
        // The draw of the area fraction is uniform where the box fits: its median is near the middle of the range.
        var median = fractions.Order().ElementAt(fractions.Count / 2);
        Assert.InRange(median, minScale + 0.3 * (1 - minScale), minScale + 0.6 * (1 - minScale));
    }

    [Fact]
    public void A_crop_of_an_image_too_narrow_for_the_ratio_falls_back_to_the_centre()
    {
        var random = SeededRandom.For(1, 0, 0);
        // Scale (1, 1) of a 100×20 image cannot have a ratio ≤ 4/3: after ten tries the whole height, width 4/3 of it (27),
        // left at (100 − 27) // 2 as torchvision floors it.
        var box = RandomResizedCrop.Sample(ref random, 100, 20, (1, 1), (3.0 / 4, 4.0 / 3));
        Assert.Equal(new CropBox(36, 0, 27, 20), box);
    }

    // A square of four flat colours with a one-pixel-wide asymmetric mark, planar.
    private static float[] Pattern(int side)
    {
        var plane = side * side;
        var pixels = new float[3 * plane];
        for (var y = 0; y < side; y++)
            for (var x = 0; x < side; x++)
            {
                var (r, g, b) = (x < side / 2, y < side / 3) switch
                {
                    (true, true) => (30f, 160f, 90f),
                    (true, false) => (200f, 50f, 120f),
                    (false, true) => (90f, 90f, 220f),
                    _ => (140f, 210f, 20f),
                };
                if (x == side / 4 && y > 2) (r, g, b) = (250f, 250f, 240f);
                var at = y * side + x;
                (pixels[at], pixels[plane + at], pixels[2 * plane + at]) = (r, g, b);
            }
        return pixels;
    }

    // Colour operations change colours, never where they are: two pixels of one colour stay of one colour, and
    // two of different colours stay different (the factors here clip none of these colours together).
    private static void AssertSameGeometry(float[] before, float[] after, int side)
    {
        var plane = side * side;
        var map = new Dictionary<(float, float, float), (float, float, float)>();
        var seen = new Dictionary<(float, float, float), (float, float, float)>();
        for (var i = 0; i < plane; i++)
        {
            var from = (before[i], before[plane + i], before[2 * plane + i]);
            var to = (after[i], after[plane + i], after[2 * plane + i]);
            if (map.TryGetValue(from, out var known)) Assert.True(known == to, $"pixel {i % side},{i / side}: colour {from} became {to} here, {known} elsewhere");
            else
            {
                Assert.False(seen.ContainsKey(to), $"pixel {i % side},{i / side}: colours {from} and {seen.GetValueOrDefault(to)} both became {to}");
                map[from] = to;
                seen[to] = from;
            }
        }
    }

    // Mutation: ColorOps.Saturation takes the grey of the next pixel (Luma(pixels, plane, (i + 1) % plane)) -> fails.
    [Fact]
    public void Colour_jitter_leaves_geometry_unchanged()
    {
        const int Side = 24;
        for (var i = 0; i < 40; i++)
        {
            var pixels = Pattern(Side);
            var random = SeededRandom.For(9, 0, i);
            ColorJitter.Apply(pixels, ref random, 0.4);
            AssertSameGeometry(Pattern(Side), pixels, Side);
            Assert.NotEqual(Pattern(Side), pixels);
        }
    }

    [Theory]
    [InlineData("Brightness")]
    [InlineData("Contrast")]
    [InlineData("Color")]
    [InlineData("AutoContrast")]
    [InlineData("Equalize")]
    [InlineData("Solarize")]
    public void TrivialAugments_colour_operations_leave_geometry_unchanged(string name)
    {
        const int Side = 24;
        var op = Enum.Parse<TrivialAugment.Op>(name);
        var pixels = Pattern(Side);
        TrivialAugment.Apply(pixels, Side, op, 0.4, 1);
        AssertSameGeometry(Pattern(Side), pixels, Side);
    }

    // Mutation: AffineWarp.Translate passes (−dx, dy) -> fails.
    [Fact]
    public void Translation_moves_pixels_by_whole_pixels_and_fills_with_black()
    {
        const int Side = 24;
        var pixels = Pattern(Side);
        AffineWarp.Translate(pixels, Side, 3, -2);
        var source = Pattern(Side);
        var plane = Side * Side;
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < Side; y++)
                for (var x = 0; x < Side; x++)
                {
                    var (sx, sy) = (x - 3, y + 2);
                    var expected = sx < 0 || sy >= Side ? 0f : source[c * plane + sy * Side + sx];
                    Assert.Equal(expected, pixels[c * plane + y * Side + x], 3);
                }
    }

    // Screen y points down: a quarter turn counter-clockwise as seen takes the top to the left, so the vertical mark at
    // column 6 (left of the centre, rows 3…23) becomes row 17 (below the centre), its top end at the left.
    // Mutation: AffineWarp.Rotate with sin's sign swapped (clockwise) -> fails.
    [Fact]
    public void Rotation_turns_counter_clockwise_as_seen()
    {
        const int Side = 24;
        var pixels = Pattern(Side);
        AffineWarp.Rotate(pixels, Side, 90);
        for (var x = 3; x < Side; x++) Assert.Equal(250f, pixels[17 * Side + x], 2);
        Assert.NotEqual(250f, pixels[17 * Side + 2], 2);
    }
}
