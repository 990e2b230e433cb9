namespace EffNet.MLNet;

/// <summary>Chooses the images an int8 backbone is calibrated on.</summary>
public static class CalibrationSample
{
    /// <summary>How many images <see cref="Pick"/> takes by default: ranges stop moving well before that.</summary>
    public const int DefaultCount = 64;

    /// <summary>
    /// A seeded sample of at most <paramref name="count"/> of <paramref name="images"/>, the same for the
    /// same images in any order, so that a retrain on the same data calibrates on the same images.
    /// </summary>
    public static IReadOnlyList<string> Pick(IEnumerable<string> images, int count = DefaultCount, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var all = images.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(all);
        return all.Take(count).Order(StringComparer.Ordinal).ToList();
    }
}
