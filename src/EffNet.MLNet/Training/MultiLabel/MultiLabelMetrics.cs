namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>One label's metrics at its threshold.</summary>
/// <param name="Label">The label.</param>
/// <param name="Threshold">Positive at or over this probability.</param>
/// <param name="Support">Rows that carry the label.</param>
/// <param name="Precision">Right positives over predicted positives (0 when none is predicted).</param>
/// <param name="Recall">Right positives over rows with the label (0 when none has it).</param>
/// <param name="F1">Harmonic mean of precision and recall (0 when both are 0).</param>
/// <param name="AveragePrecision">Area under the precision-recall curve of the ranking by probability; null when no row has the label.</param>
public sealed record LabelMetrics(string Label, double Threshold, int Support, double Precision, double Recall, double F1, double? AveragePrecision);

/// <summary>Metrics of a multi-label model on labelled rows.</summary>
/// <param name="Rows">Rows measured.</param>
/// <param name="PerLabel">Each label, in the model's label order.</param>
/// <param name="MicroF1">F1 of all (row, label) decisions pooled.</param>
/// <param name="MacroF1">Mean of the labels' F1.</param>
/// <param name="MeanAveragePrecision">Mean of the labels' average precision, over labels some row carries.</param>
/// <param name="HammingLoss">Share of (row, label) decisions that are wrong.</param>
public sealed record MultiLabelMetrics(int Rows, IReadOnlyList<LabelMetrics> PerLabel, double MicroF1, double MacroF1, double MeanAveragePrecision, double HammingLoss)
{
    /// <summary>Measure <paramref name="probabilities"/> (a row per image, a column per label) against <paramref name="truth"/>.</summary>
    public static MultiLabelMetrics From(IReadOnlyList<string> labels, IReadOnlyList<float> thresholds, IReadOnlyList<float[]> probabilities, IReadOnlyList<bool[]> truth)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (thresholds.Count != labels.Count || probabilities.Count != truth.Count) throw new ArgumentException("A threshold per label and a truth row per probability row are needed.");
        var per = new List<LabelMetrics>();
        var (allTp, allFp, allFn, wrong) = (0, 0, 0, 0);
        for (var j = 0; j < labels.Count; j++)
        {
            var p = probabilities.Select(r => r[j]).ToList();
            var t = truth.Select(r => r[j]).ToList();
            int tp = 0, fp = 0, fn = 0;
            for (var i = 0; i < p.Count; i++)
            {
                var predicted = p[i] >= thresholds[j];
                if (predicted && t[i]) tp++;
                else if (predicted) fp++;
                else if (t[i]) fn++;
            }
            (allTp, allFp, allFn, wrong) = (allTp + tp, allFp + fp, allFn + fn, wrong + fp + fn);
            var precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
            var recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
            per.Add(new LabelMetrics(labels[j], thresholds[j], tp + fn, precision, recall, F1(tp, fp, fn), AveragePrecision(p, t)));
        }
        var withPositives = per.Where(m => m.AveragePrecision is not null).ToList();
        return new MultiLabelMetrics(probabilities.Count, per, F1(allTp, allFp, allFn), per.Count == 0 ? 0 : per.Average(m => m.F1),
            withPositives.Count == 0 ? 0 : withPositives.Average(m => m.AveragePrecision!.Value),
            probabilities.Count * labels.Count == 0 ? 0 : (double)wrong / (probabilities.Count * labels.Count));
    }

    private static double F1(int tp, int fp, int fn) => tp == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);

    // Sum over each distinct probability, highest first, of the precision there times the recall it adds.
    private static double? AveragePrecision(IReadOnlyList<float> p, IReadOnlyList<bool> t)
    {
        var positives = t.Count(x => x);
        if (positives == 0) return null;
        var order = Enumerable.Range(0, p.Count).OrderByDescending(i => p[i]).ToArray();
        var (ap, tp, lastTp) = (0.0, 0, 0);
        for (var k = 0; k < order.Length; k++)
        {
            if (t[order[k]]) tp++;
            if (k + 1 < order.Length && p[order[k + 1]] == p[order[k]]) continue;
            ap += (double)(tp - lastTp) / positives * tp / (k + 1);
            lastTp = tp;
        }
        return ap;
    }
}
