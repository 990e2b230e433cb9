namespace EffNet.MLNet.Sweep;

/// <summary>Stratified k-fold assignment: each label's images are shuffled (seeded) and dealt round the folds in turn.</summary>
public static class StratifiedKFold
{
    /// <summary>
    /// The fold (0 … <paramref name="folds"/> − 1) of every item of <paramref name="labels"/>. Fold sizes
    /// differ by at most one per label, so every fold holds about the same share of each label.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="folds"/> is below 2 or above the number of items.</exception>
    public static int[] Assign(IReadOnlyList<string> labels, int folds, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (folds < 2 || folds > labels.Count)
            throw new ArgumentOutOfRangeException(nameof(folds), folds, $"Cross-validation needs between 2 and {labels.Count} folds for {labels.Count} images.");
        var random = new Random(seed);
        var fold = new int[labels.Count];
        // Continue dealing where the previous label stopped, so small labels do not all land in fold 0.
        var next = 0;
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var indices = group.ToArray();
            random.Shuffle(indices);
            foreach (var i in indices)
            {
                fold[i] = next;
                next = (next + 1) % folds;
            }
        }
        return fold;
    }
}
