using EffNet.MLNet.FineTuning.Data;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.FineTuning;

/// <summary>The augmented batches of <see cref="TrainingBatches"/> behind the engine's <see cref="ITrainingBatches"/>.</summary>
internal sealed class AugmentedBatches : ITrainingBatches
{
    private readonly TrainingBatches _inner;
    private readonly int[] _labels;

    public AugmentedBatches(IReadOnlyList<(string Path, int Label)> images, int resolution, int batchSize, Augmentation augmentation, int seed, bool horizontalFlip = false)
    {
        var preset = augmentation switch
        {
            Augmentation.Light => AugmentPreset.Light,
            Augmentation.Strong => AugmentPreset.Strong,
            _ => AugmentPreset.None,
        };
        var preparation = new ImagePreparation(Preprocessing.Fast, resolution, resolution, ResampleFilter.Bicubic);
        _inner = new TrainingBatches(images.Select(i => new Data.LabeledImage(i.Path, i.Label)).ToList(), preparation, batchSize, AugmentOptions.For(preset, horizontalFlip), seed);
        _labels = new int[batchSize];
    }

    public int Count => _inner.Count;

    public int Size(int batchIndex) => _inner.SizeOf(batchIndex);

    public void Fill(int epoch, int batchIndex, Span<float> pixelsNchw0To255, Span<long> labels)
    {
        _inner.Fill(epoch, batchIndex, pixelsNchw0To255, _labels);
        for (var i = 0; i < Size(batchIndex); i++) labels[i] = _labels[i];
    }
}
