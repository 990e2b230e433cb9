using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Training;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>The augmentation presets and flips reach the training loop: seeded, and not the unaugmented images.</summary>
public class FineTuneAugmentationTests
{
    // Mutation: FineTuner ignores options.Augmentation (always the unaugmented batches) -> the "differs" check fails.
    [Theory]
    [InlineData(Augmentation.Light)]
    [InlineData(Augmentation.Strong)]
    public void Augmented_training_is_seeded_and_differs_from_unaugmented(Augmentation augmentation)
    {
        using var dir = new TempDir();
        var images = ImageDataset.Load(SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 2));
        var variant = EfficientNetVariant.Parse("w=0.5,d=0.5,r=32");
        var plain = new FineTuneOptions { Epochs = 1, Resolution = 32, BatchSize = 3, Threads = 1, Unfreeze = Unfreeze.Top(1), LearningRate = 1e-3 };
        var augmented = plain with { Augmentation = augmentation };

        var once = Weights(FineTuner.Run(images, variant, null, augmented, dir.File("a.safetensors")), dir.File("a.safetensors"));
        var twice = Weights(FineTuner.Run(images, variant, null, augmented, dir.File("b.safetensors")), dir.File("b.safetensors"));
        var none = Weights(FineTuner.Run(images, variant, null, plain, dir.File("c.safetensors")), dir.File("c.safetensors"));

        Assert.Equal(once.Loss, twice.Loss);
        Assert.True(once.Tensors.SequenceEqual(twice.Tensors), "the same seed gave different weights");
        Assert.False(once.Tensors.SequenceEqual(none.Tensors), $"{augmentation} trained exactly as no augmentation");
        Assert.True(double.IsFinite(once.Loss));
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
        Assert.All(new[] { once, twice, none }, run => Assert.True(double.IsFinite(run.Loss)));
        Assert.True(once.Tensors.SequenceEqual(twice.Tensors), "the same seed gave different weights");
        Assert.False(once.Tensors.SequenceEqual(none.Tensors), "flips trained exactly as no flips");
    }

    private static (double Loss, float[] Tensors) Weights(IReadOnlyList<FineTuneEpoch> history, string path)
    {
        var tensors = SafetensorsReader.Read(path);
        var all = tensors.OrderBy(t => t.Key, StringComparer.Ordinal).SelectMany(t => t.Value.Data).ToArray();
        return (history[^1].Loss, all);
    }
}
