namespace EffNet.MLNet.FineTuning.Data;

/// <summary>Per-class loss weights for imbalanced data.</summary>
internal static class ClassWeights
{
    /// <summary>
    /// Inverse-frequency ("balanced") weights: <c>n / (k × n_c)</c> for a class with <c>n_c</c> of the <c>n</c> labels
    /// among <paramref name="classCount"/> classes, so every class carries the same total weight and the weights
    /// average 1 over the images. A class with no images gets 0.
    /// </summary>
    public static float[] InverseFrequency(IEnumerable<int> labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (classCount < 1) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "There must be at least one class.");
        var counts = new long[classCount];
        long total = 0;
        foreach (var label in labels)
        {
            if (label < 0 || label >= classCount) throw new ArgumentOutOfRangeException(nameof(labels), label, $"A label index must lie in 0…{classCount - 1}.");
            counts[label]++;
            total++;
        }
        var weights = new float[classCount];
        for (var c = 0; c < classCount; c++)
            weights[c] = counts[c] == 0 ? 0f : (float)((double)total / (classCount * counts[c]));
        return weights;
    }
}
