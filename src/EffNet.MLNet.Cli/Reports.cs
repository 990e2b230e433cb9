using System.Globalization;
using EffNet.MLNet.Cli.Commands;
using EffNet.MLNet.Training;
using Spectre.Console;

namespace EffNet.MLNet.Cli;

/// <summary>The tables the CLI prints.</summary>
internal static class Reports
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Leaderboard(TrainingResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Trainers (validation)")
            .AddColumns("trainer", "micro-acc", "macro-acc", "log-loss", "seconds", "");
        foreach (var e in result.Leaderboard)
        {
            var v = e.Validation;
            table.AddRow(e.Trainer.ToString().ToLowerInvariant(),
                v is null ? "-" : v.MicroAccuracy.ToString("0.000", Inv), v is null ? "-" : v.MacroAccuracy.ToString("0.000", Inv),
                v is null ? "-" : v.LogLoss.ToString("0.000", Inv), e.Duration.TotalSeconds.ToString("0.0", Inv),
                e.Trainer == result.Trainer ? "[green]chosen[/]" : Inert.Markup(e.Skipped ?? ""));
        }
        AnsiConsole.Write(table);
    }

    public static void Metrics(ClassificationMetrics m)
    {
        AnsiConsole.MarkupLine(string.Create(Inv,
            $"Validation on {m.Rows} images: micro-accuracy [bold]{m.MicroAccuracy:0.000}[/], macro-accuracy [bold]{m.MacroAccuracy:0.000}[/], log-loss {m.LogLoss:0.000}"));
        var table = new Table().Border(TableBorder.Rounded).AddColumns("label", "support", "precision", "recall", "F1");
        foreach (var c in m.PerClass)
            table.AddRow(Inert.Name(c.Label), c.Support.ToString(Inv), c.Precision.ToString("0.000", Inv), c.Recall.ToString("0.000", Inv), c.F1.ToString("0.000", Inv));
        AnsiConsole.Write(table);
        var confusion = new Table().Border(TableBorder.Rounded).Title("Confusion (rows: true, columns: predicted)").AddColumn("");
        foreach (var l in m.Labels) confusion.AddColumn(Inert.Name(l));
        for (var t = 0; t < m.Labels.Count; t++)
            confusion.AddRow([Inert.Name(m.Labels[t]), .. m.ConfusionMatrix[t].Select(n => n.ToString(Inv))]);
        AnsiConsole.Write(confusion);
    }

    /// <summary>With class weights: each label's weight and its validation recall without and with them.</summary>
    public static void ClassWeights(TrainingResult result)
    {
        if (result.ClassWeights is not { } weights || result.UnweightedValidation is not { } before) return;
        var table = new Table().Border(TableBorder.Rounded).Title("Class weights (validation recall without → with)")
            .AddColumns("label", "support", "weight", "recall unweighted", "recall weighted");
        foreach (var c in result.Validation.PerClass)
        {
            var old = before.PerClass.First(p => p.Label == c.Label);
            table.AddRow(Inert.Name(c.Label), c.Support.ToString(Inv), weights[c.Label].ToString("0.000", Inv), old.Recall.ToString("0.000", Inv), c.Recall.ToString("0.000", Inv));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(string.Create(Inv, $"Macro recall (macro-accuracy): {before.MacroAccuracy:0.000} unweighted, [bold]{result.Validation.MacroAccuracy:0.000}[/] weighted."));
    }

    public static void Predictions(IReadOnlyList<PredictCommand.ImageResult> predictions, IReadOnlyList<LabeledImage>? truth)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("image");
        if (truth is not null) table.AddColumn("true label");
        table.AddColumns("predicted", "scores");
        for (var i = 0; i < predictions.Count; i++)
        {
            var p = predictions[i];
            var scores = string.Join(", ", p.Scores.Select(s => string.Create(Inv, $"{InertText.Name(s.Label)} {s.Score:0.000}")));
            var cells = new List<string> { Inert.Name(Path.GetFileName(p.Image)) };
            if (truth is not null) cells.Add(Inert.Name(truth[i].Label));
            cells.Add(p.Error is null ? Inert.Name(p.Label) : "[yellow]skipped[/]");
            cells.Add(Inert.Markup(p.Error ?? scores));
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
    }
}
