using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Data;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Tests.FineTuning;

public class DataBatchTests
{
    private const int Side = 32;

    private static ImagePreparation Fast(int side = Side) => new(Preprocessing.Fast, side, side, ResampleFilter.Bicubic);

    // Six distinct busy pictures of different shapes, labels 0, 1, 2, 0, 1, 2.
    private static LabeledImage[] Six(TempDir dir) => Enumerable.Range(0, 6)
        .Select(i => new LabeledImage(DataImages.Busy(dir, $"busy{i}.png", 48 + 8 * i, 40 + 4 * (5 - i)), i % 3))
        .ToArray();

    // Every batch of the given epochs, pixels then labels, as one array of each.
    private static (float[] Pixels, int[] Labels) All(TrainingBatches batches, params int[] epochs)
    {
        var pixels = new List<float>();
        var labels = new List<int>();
        var bufferPixels = new float[batches.BatchSize * batches.ImageFloats];
        var bufferLabels = new int[batches.BatchSize];
        foreach (var epoch in epochs)
            for (var b = 0; b < batches.Count; b++)
            {
                batches.Fill(epoch, b, bufferPixels, bufferLabels);
                var size = batches.SizeOf(b);
                pixels.AddRange(bufferPixels.AsSpan(0, size * batches.ImageFloats).ToArray());
                labels.AddRange(bufferLabels.AsSpan(0, size).ToArray());
            }
        return (pixels.ToArray(), labels.ToArray());
    }

    // Mutation: seed the image streams by the filling thread (SeededRandom.For(_seed, epoch, Environment.CurrentManagedThreadId)) -> fails
    // (1 vs 4 threads differ; it passed while the only multi-thread case was one batch of 4 small images, all filled on the caller's thread).
    // Mutation: SeededRandom.For ignores its seed -> fails (different seeds give the same batches).
    [Fact]
    public void Batches_are_a_function_of_the_seed_alone_not_of_threads_fill_order_or_cache()
    {
        using var dir = new TempDir();
        var images = Six(dir);
        var strong = AugmentOptions.For(AugmentPreset.Strong);
        TrainingBatches Make(int seed, int threads, long cache = 1L << 30) =>
            new(images, Fast(), 4, strong, seed, new TrainingBatchesOptions { Threads = threads, CacheBytes = cache });

        var reference = All(Make(7, 1), 0, 1);
        Assert.Equal(reference.Pixels, All(Make(7, 1), 0, 1).Pixels);
        Assert.Equal(reference.Pixels, All(Make(7, 4), 0, 1).Pixels);
        // Twenty-four larger images in one batch, enough work that several threads do take part.
        var many = Enumerable.Repeat(images, 4).SelectMany(i => i).ToArray();
        TrainingBatches Whole(int threads) => new(many, Fast(128), 24, strong, 7, new TrainingBatchesOptions { Threads = threads });
        Assert.Equal(All(Whole(1), 0).Pixels, All(Whole(4), 0).Pixels);
        Assert.Equal(reference.Labels, All(Make(7, 4), 0, 1).Labels);
        Assert.Equal(reference.Pixels, All(Make(7, 4, cache: 0), 0, 1).Pixels);
        Assert.NotEqual(reference.Pixels, All(Make(8, 1), 0, 1).Pixels);

        // The second batch filled first (a resumed run) is the same batch.
        var fresh = Make(7, 2);
        var pixels = new float[4 * fresh.ImageFloats];
        var labels = new int[4];
        fresh.Fill(1, 1, pixels, labels);
        var epoch1 = All(Make(7, 1), 1);
        Assert.Equal(epoch1.Pixels.AsSpan(4 * fresh.ImageFloats).ToArray(), pixels.AsSpan(0, 2 * fresh.ImageFloats).ToArray());

        // Two epochs augment differently.
        var perEpoch = reference.Pixels.Length / 2;
        Assert.NotEqual(reference.Pixels[..perEpoch], reference.Pixels[perEpoch..]);
    }

    // Mutation: OrderOf leaves out the Fisher–Yates shuffle -> fails (the order is the list's).
    // Mutation: the order stream keyed without the epoch (SeededRandom.For(_seed, 0, -1, stream: 1)) -> fails.
    [Fact]
    public void Each_epoch_visits_every_image_once_in_a_seeded_order_of_its_own()
    {
        using var dir = new TempDir();
        var images = Enumerable.Range(0, 40).Select(i => new LabeledImage($"unused{i}.png", i % 4)).ToArray();
        var batches = new TrainingBatches(images, Fast(), 8, AugmentOptions.For(AugmentPreset.None), seed: 3);
        var again = new TrainingBatches(images, Fast(), 8, AugmentOptions.For(AugmentPreset.None), seed: 3);
        var identity = Enumerable.Range(0, 40).ToArray();
        for (var epoch = 0; epoch < 3; epoch++)
        {
            Assert.Equal(identity, batches.Order(epoch).Order().ToArray());
            Assert.NotEqual(identity, batches.Order(epoch).ToArray());
            Assert.Equal(batches.Order(epoch), again.Order(epoch));
        }
        Assert.NotEqual(batches.Order(0), batches.Order(1));
        Assert.NotEqual(batches.Order(0), new TrainingBatches(images, Fast(), 8, AugmentOptions.For(AugmentPreset.None), seed: 4).Order(0));
        var unshuffled = new TrainingBatches(images, Fast(), 8, AugmentOptions.For(AugmentPreset.None), 3, new TrainingBatchesOptions { Shuffle = false });
        Assert.Equal(identity, unshuffled.Order(5));
    }

    // Mutation: Count rounds down whether or not DropLast -> fails (6 images in batches of 4 make 1 batch, losing 2 images).
    [Fact]
    public void A_last_partial_batch_is_kept_unless_drop_last_and_every_label_arrives_once()
    {
        using var dir = new TempDir();
        var images = Six(dir);
        var batches = new TrainingBatches(images, Fast(), 4, AugmentOptions.For(AugmentPreset.Light), 1);
        Assert.Equal(2, batches.Count);
        Assert.Equal(4, batches.SizeOf(0));
        Assert.Equal(2, batches.SizeOf(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => batches.SizeOf(2));
        var (_, labels) = All(batches, 0);
        Assert.Equal(images.Select(i => i.Label).Order(), labels.Order());

        var dropping = new TrainingBatches(images, Fast(), 4, AugmentOptions.For(AugmentPreset.Light), 1, new TrainingBatchesOptions { DropLast = true });
        Assert.Equal(1, dropping.Count);
        Assert.Equal(4, dropping.SizeOf(0));
    }

    // The "none" preset is what serving sees: the library's own input square, to the bit, for both preprocessing modes.
    // Mutation: TrainingBatches builds its ImageStore with squares: false (none crops the working image instead) -> fails.
    [Theory]
    [InlineData(Preprocessing.Fast, 40, 40)]
    [InlineData(Preprocessing.TorchvisionExact, 40, 36)]
    public void The_none_preset_gives_exactly_the_librarys_input_square(Preprocessing mode, int size, int crop)
    {
        using var dir = new TempDir();
        var images = Six(dir);
        var preparation = new ImagePreparation(mode, size, crop, ResampleFilter.Bicubic);
        var batches = new TrainingBatches(images, preparation, 6, AugmentOptions.For(AugmentPreset.None), 5, new TrainingBatchesOptions { Shuffle = false });
        var pixels = new float[6 * batches.ImageFloats];
        batches.Fill(0, 0, pixels, new int[6]);
        var expected = new float[batches.ImageFloats];
        for (var i = 0; i < images.Length; i++)
        {
            preparation.Decode(images[i].Path, expected, acceptTruncated: false);
            Assert.Equal(expected, pixels.AsSpan(i * batches.ImageFloats, batches.ImageFloats).ToArray());
        }
    }

    // Mutation: RandomResizedCrop.Resample writes channel c to plane 2 − c (BGR) -> fails.
    [Theory]
    [InlineData("none")]
    [InlineData("light")]
    [InlineData("strong")]
    public void Pixels_come_out_as_planar_rgb_red_plane_first(string preset)
    {
        using var dir = new TempDir();
        var path = DataImages.Write(dir, "orange.png", 50, 40, (_, _) => (200, 120, 10));
        // Colour operations off: a flat image keeps its colour through any crop or resampling.
        var options = AugmentOptions.For(AugmentOptions.Parse(preset)) with { Jitter = 0, TrivialAugment = false };
        var batches = new TrainingBatches([new LabeledImage(path, 0)], Fast(), 1, options, 2);
        var pixels = new float[batches.ImageFloats];
        var plane = Side * Side;
        for (var epoch = 0; epoch < 3; epoch++)
        {
            batches.Fill(epoch, 0, pixels, new int[1]);
            Assert.All(pixels[..plane], v => Assert.Equal(200f, v));
            Assert.All(pixels[plane..(2 * plane)], v => Assert.Equal(120f, v));
            Assert.All(pixels[(2 * plane)..], v => Assert.Equal(10f, v));
        }
    }

    // Mutation: RandomResizedCrop.Resample writes row-major transposed (at = ox * size + oy) -> fails.
    [Fact]
    public void Each_plane_is_row_major_with_the_top_row_first()
    {
        using var dir = new TempDir();
        var path = DataImages.RedTopBlueBottom(dir);
        var batches = new TrainingBatches([new LabeledImage(path, 0)], Fast(), 1, AugmentOptions.For(AugmentPreset.None), 2);
        var pixels = new float[batches.ImageFloats];
        batches.Fill(0, 0, pixels, new int[1]);
        var plane = Side * Side;
        for (var x = 0; x < Side; x++)
        {
            Assert.Equal((255f, 0f, 0f), (pixels[x], pixels[plane + x], pixels[2 * plane + x]));
            var last = (Side - 1) * Side + x;
            Assert.Equal((0f, 0f, 255f), (pixels[last], pixels[plane + last], pixels[2 * plane + last]));
        }
    }

    // Mutation: ColorOps.Brightness without its clamp (v = v * factor) -> fails (bright pixels pass 255).
    // (Without its clamp, AffineWarp's bilinear sum of 255s rounded to 255.00003: this test found that.)
    [Fact]
    public void Strong_augmentation_stays_within_0_to_255()
    {
        using var dir = new TempDir();
        var path = DataImages.Write(dir, "bright.png", 40, 40, (x, y) => ((byte)(200 + x), (byte)(215 + y), 255));
        var images = Enumerable.Range(0, 16).Select(_ => new LabeledImage(path, 0)).ToArray();
        var batches = new TrainingBatches(images, Fast(), 16, AugmentOptions.For(AugmentPreset.Strong), 11);
        var pixels = new float[16 * batches.ImageFloats];
        for (var epoch = 0; epoch < 3; epoch++)
        {
            batches.Fill(epoch, 0, pixels, new int[16]);
            Assert.All(pixels, v => Assert.True(v >= 0 && v <= 255, $"value {v}"));
        }
    }

    [Fact]
    public void A_damaged_image_fails_its_batch_naming_the_file()
    {
        using var dir = new TempDir();
        var images = Six(dir).ToList();
        var bad = dir.File("page.png");
        File.WriteAllText(bad, "<html>not an image</html>");
        images.Insert(2, new LabeledImage(bad, 1));
        var batches = new TrainingBatches(images, Fast(), 4, AugmentOptions.For(AugmentPreset.Light), 1, new TrainingBatchesOptions { Shuffle = false, Threads = 2 });
        var error = Assert.Throws<BadImageException>(() => batches.Fill(0, 0, new float[4 * batches.ImageFloats], new int[4]));
        Assert.Contains("page.png", error.Message);
        batches.Fill(0, 1, new float[4 * batches.ImageFloats], new int[4]);
    }

    // Mutation: DecodedImageBatches without its AggregateException unwrap -> fails (the parallel loop's wrapper).
    [Fact]
    public void A_damaged_image_in_the_unaugmented_batches_is_refused_by_name()
    {
        using var dir = new TempDir();
        var images = Six(dir).Select(i => (i.Path, i.Label)).ToList();
        var bad = dir.File("page.png");
        File.WriteAllText(bad, "<html>not an image</html>");
        images.Insert(3, (bad, 1));
        var error = Assert.Throws<BadImageException>(() => new DecodedImageBatches(images, 32, 4, seed: 1, shuffle: false));
        Assert.Contains("page.png", error.Message, StringComparison.Ordinal);
    }
}
