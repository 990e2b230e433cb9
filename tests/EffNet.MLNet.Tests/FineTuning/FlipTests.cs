using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Training;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Flips are off unless asked for; asked for, they reach the batches of every augmentation preset.</summary>
public class FlipTests
{
    // Without augmentation each image of an epoch is its serving square or exactly that square mirrored, drawn per
    // (seed, epoch, image); flips off never mirror.
    // Mutation: DecodedImageBatches mirrors whenever flips are on (Chance(1)) -> fails (every image mirrored).
    // Mutation: the flip reverses the whole image instead of each row (an upside-down mirror) -> fails (neither kept nor mirrored).
    [Fact]
    public void Unaugmented_batches_mirror_about_half_the_images_per_epoch_and_none_without_flips()
    {
        using var dir = new TempDir();
        const int Count = 24, Side = 32;
        var images = Enumerable.Range(0, Count).Select(i => (DataImages.Busy(dir, $"{i}.png", 40 + i, 36), 0)).ToList();
        var plain = new DecodedImageBatches(images, Side, Count, seed: 5, shuffle: false);
        var flipping = new DecodedImageBatches(images, Side, Count, seed: 5, shuffle: false, horizontalFlip: true);
        var per = 3 * Side * Side;
        var a = new float[Count * per];
        var b = new float[Count * per];
        var labels = new long[Count];
        int mirrored = 0;
        for (var epoch = 0; epoch < 4; epoch++)
        {
            plain.Fill(epoch, 0, a, labels);
            flipping.Fill(epoch, 0, b, labels);
            for (var i = 0; i < Count; i++)
            {
                var original = a.AsSpan(i * per, per);
                var seen = b.AsSpan(i * per, per);
                if (seen.SequenceEqual(original)) continue;
                var mirror = original.ToArray();
                for (var row = 0; row < per; row += Side) mirror.AsSpan(row, Side).Reverse();
                Assert.True(seen.SequenceEqual(mirror), $"epoch {epoch} image {i} is neither its square nor its mirror");
                mirrored++;
            }
        }
        Assert.InRange(mirrored, 24, 72);   // 96 draws at 1/2
        var again = new float[Count * per];
        flipping.Fill(3, 0, again, labels);
        Assert.Equal(b, again);
        var before = new float[Count * per];
        plain.Fill(0, 0, before, labels);
        plain.Fill(0, 0, a, labels);
        Assert.Equal(before, a);
    }

    // Mutation: FineTuner drops options.HorizontalFlip for the unaugmented batches -> fails ("none").
    // Mutation: AugmentedBatches ignores its horizontalFlip argument -> fails ("light").
    [Theory]
    [InlineData(Augmentation.None)]
    [InlineData(Augmentation.Light)]
    public void A_flip_reaches_the_training_loop_seeded(Augmentation augmentation)
    {
        using var dir = new TempDir();
        var images = ImageDataset.Load(SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2));
        var variant = EfficientNetVariant.Parse("w=0.5,d=0.5,r=32");
        var plain = new FineTuneOptions { Epochs = 1, Resolution = 32, BatchSize = 3, Threads = 1, Unfreeze = Unfreeze.Top(1), LearningRate = 1e-3, Augmentation = augmentation };
        var flipped = plain with { HorizontalFlip = true };

        var once = Weights(FineTuner.Run(images, variant, null, flipped, dir.File("a.safetensors")), dir.File("a.safetensors"));
        var twice = Weights(FineTuner.Run(images, variant, null, flipped, dir.File("b.safetensors")), dir.File("b.safetensors"));
        var none = Weights(FineTuner.Run(images, variant, null, plain, dir.File("c.safetensors")), dir.File("c.safetensors"));
        Assert.True(once.SequenceEqual(twice), "the same seed gave different weights");
        Assert.False(once.SequenceEqual(none), "flips trained exactly as no flips");
    }

    private static float[] Weights(IReadOnlyList<FineTuneEpoch> history, string path)
    {
        Assert.True(double.IsFinite(history[^1].Loss));
        return SafetensorsReader.Read(path).OrderBy(t => t.Key, StringComparer.Ordinal).SelectMany(t => t.Value.Data).ToArray();
    }
}
