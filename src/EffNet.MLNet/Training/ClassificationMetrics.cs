using Microsoft.ML.Data;

namespace EffNet.MLNet.Training;

/// <summary>Precision, recall and F1 of one class.</summary>
public sealed record ClassMetrics(string Label, int Support, double Precision, double Recall, double F1);

/// <summary>
/// Multiclass metrics with ML.NET's definitions: micro accuracy (share of rows right), macro
/// accuracy (mean of per-class recall), log-loss; plus per-class scores and the confusion
/// matrix (rows: true label, columns: predicted, in <see cref="Labels"/> order).
/// </summary>
public sealed record ClassificationMetrics(
    IReadOnlyList<string> Labels, double MicroAccuracy, double MacroAccuracy, double LogLoss,
    IReadOnlyList<ClassMetrics> PerClass, IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix, int Rows)
{
    /// <summary>Convert ML.NET's metrics; <paramref name="labels"/> in key order.</summary>
    public static ClassificationMetrics From(MulticlassClassificationMetrics m, IReadOnlyList<string> labels)
    {
        var k = labels.Count;
        var counts = new int[k][];
        for (var t = 0; t < k; t++)
        {
            counts[t] = new int[k];
            if (t >= m.ConfusionMatrix.Counts.Count) continue;
            for (var p = 0; p < k && p < m.ConfusionMatrix.Counts[t].Count; p++)
                counts[t][p] = (int)Math.Round(m.ConfusionMatrix.Counts[t][p]);
        }
        var perClass = new List<ClassMetrics>();
        for (var c = 0; c < k; c++)
        {
            var tp = counts[c][c];
            var support = counts[c].Sum();
            var predicted = counts.Sum(row => row[c]);
            var precision = predicted == 0 ? 0 : tp / (double)predicted;
            var recall = support == 0 ? 0 : tp / (double)support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassMetrics(labels[c], support, precision, recall, f1));
        }
        return new ClassificationMetrics(labels, m.MicroAccuracy, m.MacroAccuracy, m.LogLoss, perClass, counts, counts.Sum(r => r.Sum()));
    }
}
