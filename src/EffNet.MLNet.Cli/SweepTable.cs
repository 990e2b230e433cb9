using System.Globalization;
using EffNet.MLNet.Sweep;
using Spectre.Console;

namespace EffNet.MLNet.Cli;

/// <summary>
/// The sweep's table on the console, the recommendation and, with random weights, what the accuracies do not mean.
/// Seven narrow columns fit an 80-column terminal without wrapping a number; throughput, feature length and cache
/// hits are in sweep.json, and why a variant was skipped is said under the table, where a sentence has room.
/// </summary>
internal static class SweepTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(SweepResult result) => Write(result, AnsiConsole.Console);

    public static void Write(SweepResult result, IAnsiConsole console)
    {
        var frontier = result.ParetoFrontier.ToHashSet(StringComparer.Ordinal);
        var table = new Table().Border(TableBorder.Rounded)
            .Title(string.Create(Inv, $"{result.Images} images, {result.Folds}-fold {result.Trainer} probe, {result.Precision}"))
            .AddColumns("variant", "res", "params", "GMACs", "accuracy, 95% CI", "ms/image", "note");
        foreach (var v in result.Variants)
        {
            var note = v.Variant == result.Recommendation.Variant ? "[green]recommended[/]"
                : v.Skipped is not null ? "[yellow]skipped[/]"
                : frontier.Contains(v.Variant) ? "frontier" : "";
            table.AddRow(
                Inert.Markup(v.Variant), v.Resolution.ToString(Inv), (v.Parameters / 1e6).ToString("0.00", Inv) + "M",
                (v.MultiplyAdds / 1e9).ToString("0.000", Inv),
                v.Accuracy is { } a ? string.Create(Inv, $"{100 * a.Mean:0.0}% {100 * a.Low:0.0}–{100 * a.High:0.0}") : "-",
                v.MillisecondsPerImage?.ToString("0.00", Inv) ?? "-", note);
        }
        console.Write(table);
        console.MarkupLine(Inert.Markup(string.Create(Inv, $"Costs measured on {result.Machine}; interval: {result.Interval}.")));
        var cached = result.Variants.Where(v => v.Completed).Select(v => string.Create(Inv, $"{v.Variant} {v.CacheHits}/{v.CacheHits + v.FeaturizedImages}")).ToList();
        if (cached.Count > 0) console.MarkupLine(Inert.Markup("Features from the cache: " + string.Join(", ", cached) + "."));
        foreach (var v in result.Variants.Where(v => v.Skipped is not null))
            console.MarkupLine($"[yellow]{Inert.Markup(v.Variant)} skipped:[/] {Inert.Markup(v.Skipped!)}.");
        if (result.StoppedByTimeBudget)
            console.MarkupLine(string.Create(Inv, $"[yellow]The time budget of {result.TimeBudgetSeconds:0.#} s ran out: larger variants were not tried.[/]"));
        var rec = result.Recommendation;
        console.MarkupLine(rec.Variant is null
            ? $"[yellow]No recommendation:[/] {Inert.Markup(rec.Reason)}."
            : $"Recommended: [bold green]{Inert.Markup(rec.Variant)}[/], {Inert.Markup(rec.Reason)}.");
        if (result.Warning is not null) console.MarkupLine($"[yellow]{Inert.Markup(result.Warning)}[/]");
    }
}
