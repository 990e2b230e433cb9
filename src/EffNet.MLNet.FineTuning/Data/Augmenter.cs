namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// One training image from its decoded form: the crop (random-resized, or the whole input square without
/// augmentation), the flip when asked for, colour jitter, then the TrivialAugment operation, all drawn from
/// the image's own random stream.
/// </summary>
internal static class Augmenter
{
    /// <summary>Write <paramref name="image"/> augmented by <paramref name="options"/> as a <paramref name="size"/>² square of planar RGB floats 0…255.</summary>
    public static void Render(WorkingImage image, int size, AugmentOptions options, ref SeededRandom random, Span<float> destination)
    {
        var box = options.Preset == AugmentPreset.None
            ? new CropBox(0, 0, image.Width, image.Height)
            : RandomResizedCrop.Sample(ref random, image.Width, image.Height, options.CropScale, options.CropRatio);
        var mirror = options.HorizontalFlip && random.Chance(0.5);
        var pixels = destination[..(3 * size * size)];
        RandomResizedCrop.Resample(image, box, size, mirror, pixels);
        ColorJitter.Apply(pixels, ref random, options.Jitter);
        if (options.TrivialAugment) TrivialAugment.Apply(pixels, size, ref random);
    }
}
