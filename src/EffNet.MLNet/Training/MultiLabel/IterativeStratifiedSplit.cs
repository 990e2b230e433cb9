namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>
/// A train/validation split of multi-label rows that keeps each label's share close to the
/// validation fraction (iterative stratification, Sechidis, Tsoumakas and Vlahavas 2011, for two folds).
/// Seeded and reproducible.
/// </summary>
internal static class IterativeStratifiedSplit
{
    /// <summary>Split the indices of <paramref name="labelSets"/>; about <paramref name="validationFraction"/> of each label's rows go to validation.</summary>
    public static (int[] Train, int[] Validation) Split(IReadOnlyList<IReadOnlyList<string>> labelSets, double validationFraction, int seed)
    {
        if (validationFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must lie in [0, 1).");
        var random = new Random(seed);
        var fractions = new[] { 1 - validationFraction, validationFraction };
        var wantedRows = fractions.Select(f => f * labelSets.Count).ToArray();
        var wantedPerLabel = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var group in labelSets.SelectMany(s => s).GroupBy(l => l, StringComparer.Ordinal))
            wantedPerLabel[group.Key] = fractions.Select(f => f * group.Count()).ToArray();
        var fold = new int[labelSets.Count];
        var left = new HashSet<int>(Enumerable.Range(0, labelSets.Count));

        void Assign(int row, int f)
        {
            fold[row] = f;
            left.Remove(row);
            wantedRows[f]--;
            foreach (var l in labelSets[row]) wantedPerLabel[l][f]--;
        }

        while (left.Count > 0)
        {
            // The label with the fewest rows still unplaced goes first: rare labels are the hardest to balance.
            var remaining = left.SelectMany(r => labelSets[r]).GroupBy(l => l, StringComparer.Ordinal)
                .Select(g => (Label: g.Key, Count: g.Count())).OrderBy(x => x.Count).ThenBy(x => x.Label, StringComparer.Ordinal).ToList();
            if (remaining.Count == 0)
            {
                // Rows with no label: wherever rows are still wanted.
                foreach (var row in Shuffled(left, random)) Assign(row, wantedRows[1] > wantedRows[0] ? 1 : 0);
                break;
            }
            var label = remaining[0].Label;
            foreach (var row in Shuffled(left.Where(r => labelSets[r].Contains(label, StringComparer.Ordinal)), random))
            {
                var wanted = wantedPerLabel[label];
                var f = wanted[1] > wanted[0] ? 1 : wanted[0] > wanted[1] ? 0
                    : wantedRows[1] > wantedRows[0] ? 1 : wantedRows[0] > wantedRows[1] ? 0 : random.Next(2);
                if (validationFraction == 0) f = 0;
                Assign(row, f);
            }
        }
        var train = Enumerable.Range(0, fold.Length).Where(i => fold[i] == 0).ToArray();
        var validation = Enumerable.Range(0, fold.Length).Where(i => fold[i] == 1).ToArray();
        return (train, validation);
    }

    private static List<int> Shuffled(IEnumerable<int> rows, Random random)
    {
        var list = rows.Order().ToArray();
        random.Shuffle(list);
        return [.. list];
    }
}
