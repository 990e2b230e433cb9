using System.Globalization;
using EffNet.MLNet.Sweep;
using Spectre.Console;

namespace EffNet.MLNet.Cli;

/// <summary>The sweep's table on the console, the recommendation and, with random weights, what the accuracies do not mean.</summary>
internal static class SweepTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(SweepResult result)
    {
        var frontier = result.ParetoFrontier.ToHashSet(StringComparer.Ordinal);
        var table = new Table().Border(TableBorder.Rounded)
            .Title(string.Create(Inv, $"Variants on {result.Images} images ({result.Folds}-fold {result.Trainer} probe, {result.Precision}, {result.Machine})"))
            .AddColumns("variant", "resolution", "params", "GMACs", "features", "accuracy (95% interval)", "ms/image", "images/s", "cached", "");
        foreach (var v in result.Variants)
        {
            var note = v.Variant == result.Recommendation.Variant ? "[green]recommended[/]"
                : v.Skipped is not null ? "[yellow]skipped:[/] " + Inert.Markup(v.Skipped)
                : frontier.Contains(v.Variant) ? "frontier" : "";
            if (v.Variant == result.Recommendation.Variant && frontier.Contains(v.Variant)) note += ", frontier";
            table.AddRow(
                Inert.Markup(v.Variant), v.Resolution.ToString(Inv), (v.Parameters / 1e6).ToString("0.00", Inv) + " M",
                (v.MultiplyAdds / 1e9).ToString("0.000", Inv), v.FeatureDimension.ToString(Inv),
                v.Accuracy is { } a ? string.Create(Inv, $"{a.Mean:P1} ({a.Low:P1}–{a.High:P1})") : "-",
                v.MillisecondsPerImage?.ToString("0.00", Inv) ?? "-", v.ImagesPerSecond?.ToString("0.0", Inv) ?? "-",
                v.Completed ? string.Create(Inv, $"{v.CacheHits}/{v.CacheHits + v.FeaturizedImages}") : "-", note);
        }
        AnsiConsole.Write(table);
        if (result.StoppedByTimeBudget)
            AnsiConsole.MarkupLine(string.Create(Inv, $"[yellow]The time budget of {result.TimeBudgetSeconds:0.#} s ran out: larger variants were not tried.[/]"));
        var rec = result.Recommendation;
        AnsiConsole.MarkupLine(rec.Variant is null
            ? $"[yellow]No recommendation:[/] {Inert.Markup(rec.Reason)}."
            : $"Recommended: [bold green]{Inert.Markup(rec.Variant)}[/], {Inert.Markup(rec.Reason)}.");
        if (result.Warning is not null) AnsiConsole.MarkupLine($"[yellow]{Inert.Markup(result.Warning)}[/]");
    }
}
