using System.Globalization;
using EffNet.MLNet.Training.MultiLabel;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Commands.MultiLabel;

/// <summary>How train and evaluate print multi-label metrics.</summary>
internal static class MultiLabelTables
{
    public static void Metrics(MultiLabelMetrics m)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().AddColumns("Label", "Threshold", "Images", "Precision", "Recall", "F1", "Average precision");
        foreach (var l in m.PerLabel)
            table.AddRow(Inert.Markup(l.Label), l.Threshold.ToString("0.000", inv), l.Support.ToString(inv), l.Precision.ToString("0.000", inv),
                l.Recall.ToString("0.000", inv), l.F1.ToString("0.000", inv), l.AveragePrecision?.ToString("0.000", inv) ?? "-");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(string.Create(inv,
            $"Micro-F1 {m.MicroF1:0.000}, macro-F1 {m.MacroF1:0.000}, mAP {m.MeanAveragePrecision:0.000}, Hamming loss {m.HammingLoss:0.000} on {m.Rows} images."));
    }
}
