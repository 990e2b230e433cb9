using EffNet.MLNet.FineTuning;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Flips are off unless asked for; asked for, each unaugmented image is its square or exactly its mirror (the flip reaching the training loop: FineTuneAugmentationTests).</summary>
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
}
