namespace EffNet.MLNet.Training;

/// <summary>A train/validation split that keeps each label's share (seeded, reproducible).</summary>
internal static class StratifiedSplit
{
    /// <summary>
    /// Split the indices of <paramref name="labels"/>: about <paramref name="validationFraction"/>
    /// of every label (at least one where the label has two or more items) goes to validation.
    /// </summary>
    public static (int[] Train, int[] Validation) Split(IReadOnlyList<string> labels, double validationFraction, int seed)
    {
        if (validationFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must lie in [0, 1).");
        var random = new Random(seed);
        var train = new List<int>();
        var validation = new List<int>();
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var indices = group.ToArray();
            random.Shuffle(indices);
            var take = validationFraction == 0 ? 0 : Math.Max(indices.Length >= 2 ? 1 : 0, (int)Math.Round(indices.Length * validationFraction));
            validation.AddRange(indices.Take(take));
            train.AddRange(indices.Skip(take));
        }
        train.Sort();
        validation.Sort();
        return ([.. train], [.. validation]);
    }
}
