namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>
/// The decision threshold of one label: of the label's validation probabilities, the one that, taken as
/// "positive at or over it", gives the best F1; on a tie the lower threshold; a label without a positive
/// among the validation rows keeps <see cref="Default"/>.
/// </summary>
public static class ThresholdRule
{
    /// <summary>The threshold of a label the validation split cannot tell anything about.</summary>
    public const float Default = 0.5f;

    /// <summary>The best-F1 threshold of <paramref name="probabilities"/> against <paramref name="truth"/>.</summary>
    public static float BestF1(IReadOnlyList<float> probabilities, IReadOnlyList<bool> truth)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(truth);
        if (probabilities.Count != truth.Count) throw new ArgumentException("One truth value per probability is needed.");
        var positives = truth.Count(t => t);
        if (positives == 0) return Default;
        // Highest probability first: lowering the threshold past a group of equal probabilities adds all of them.
        var order = Enumerable.Range(0, probabilities.Count).OrderByDescending(i => probabilities[i]).ToArray();
        var (best, bestF1, tp, predicted) = (Default, -1.0, 0, 0);
        for (var k = 0; k < order.Length; k++)
        {
            predicted++;
            if (truth[order[k]]) tp++;
            if (k + 1 < order.Length && probabilities[order[k + 1]] == probabilities[order[k]]) continue;
            var f1 = 2.0 * tp / (predicted + positives);
            // ">=" keeps the lower of two thresholds with the same F1 (they come in falling order).
            if (f1 >= bestF1) (best, bestF1) = (probabilities[order[k]], f1);
        }
        return best;
    }
}
