using EffNet.MLNet.Cli;
using EffNet.MLNet.Sweep;
using Spectre.Console;

namespace EffNet.MLNet.Tests.Sweep;

/// <summary>The chart, the recommendation and the console table tell one story, readably.</summary>
public class SweepPresentationTests
{
    private static VariantResult Done(string name, long macs, double mean, double low, double high, double ms) =>
        new(name, 224, macs * 10_000, macs * 1_000_000, 1280)
        {
            FoldAccuracies = [mean, mean],
            Accuracy = new FoldStatistics(mean, 0.01, low, high),
            MillisecondsPerImage = ms,
            ImagesPerSecond = 1000 / ms,
            CacheHits = 90,
        };

    private static SweepResult Result(IReadOnlyList<VariantResult> variants, SweepRecommendation? recommendation = null) => new()
    {
        Images = 90, Labels = ["a", "b"], RandomInit = false, Precision = "fp32", Folds = 5, Trainer = "lbfgs",
        Machine = "2 logical cores, Linux X64", Variants = variants,
        ParetoFrontier = ParetoFrontier.Of(variants).Select(v => v.Variant).ToList(),
        Recommendation = recommendation ?? SweepRecommendation.Choose(variants, null),
    };

    // A busy core made b0 (fewest multiply-adds) measure slower than b1 at equal accuracy.
    // Mutation: SweepRecommendation.Choose picks the fewest multiply-adds within the best's interval (the old rule) -> fails.
    [Fact]
    public void On_a_loaded_machine_the_recommended_point_is_on_the_drawn_frontier()
    {
        VariantResult[] variants = [Done("b0", 390, 0.85, 0.80, 0.90, 9), Done("b1", 700, 0.85, 0.80, 0.90, 6), Done("b2", 1000, 0.86, 0.81, 0.91, 12)];
        var result = Result(variants);
        Assert.Equal("b1", result.Recommendation.Variant);
        var content = SweepChart.Content(result);
        Assert.Equal(["b1", "b2"], content.FrontierLine);
        Assert.Contains(result.Recommendation.Variant, content.FrontierLine);
        Assert.Equal("b1 (recommended)", content.Labels["b1"]);
        Assert.Equal("b0", content.Labels["b0"]);
        Assert.Equal([SweepChart.FrontierLegend], content.Legend);

        // With a cost limit too: the pick is the last frontier point within it.
        var limited = SweepRecommendation.Choose(variants, 10);
        Assert.Equal("b1", limited.Variant);
    }

    // Mutation: SweepChart.Content always lists the frontier legend -> fails (one point draws no line).
    [Fact]
    public void The_legend_lists_only_what_is_drawn_and_an_off_frontier_recommendation_is_explained()
    {
        var single = SweepChart.Content(Result([Done("b0", 390, 0.85, 0.80, 0.90, 9)]));
        Assert.Empty(single.FrontierLine);
        Assert.Empty(single.Legend);
        Assert.Equal("b0 (recommended)", single.Labels["b0"]);

        // A sweep.json written under the old rule recommended off the frontier: the label says so rather than contradict the line.
        VariantResult[] variants = [Done("b0", 390, 0.85, 0.80, 0.90, 9), Done("b1", 700, 0.85, 0.80, 0.90, 6), Done("b2", 1000, 0.86, 0.81, 0.91, 12)];
        var old = SweepChart.Content(Result(variants, new SweepRecommendation("b0", "the smallest")));
        Assert.Equal("b0 (recommended, though off the measured frontier)", old.Labels["b0"]);
        Assert.Equal(SweepChart.Width, SkiaSharp.SKBitmap.Decode(SweepChart.Render(Result(variants))).Width);
    }

    // Mutation: SweepChart.Content never adds the family legend entries -> fails.
    [Fact]
    public void A_sweep_mixing_families_marks_each_family_and_names_them_in_the_legend()
    {
        VariantResult[] variants = [Done("b0", 390, 0.85, 0.80, 0.90, 9), Done("lite0", 385, 0.84, 0.79, 0.89, 7), Done("v2-s", 8366, 0.88, 0.83, 0.93, 40)];
        var content = SweepChart.Content(Result(variants));
        Assert.Equal(Architecture.ArchitectureFamily.EfficientNet, content.Families["b0"]);
        Assert.Equal(Architecture.ArchitectureFamily.EfficientNetLite, content.Families["lite0"]);
        Assert.Equal(Architecture.ArchitectureFamily.EfficientNetV2, content.Families["v2-s"]);
        Assert.Equal(["EfficientNet (B)", "EfficientNetV2", "EfficientNet-Lite"], content.Legend.Where(l => l != SweepChart.FrontierLegend));
        Assert.Equal(SweepChart.Width, SkiaSharp.SKBitmap.Decode(SweepChart.Render(Result(variants))).Width);
        // One family alone needs no family legend.
        Assert.DoesNotContain("EfficientNet (B)", SweepChart.Content(Result([Done("b0", 390, 0.85, 0.80, 0.90, 9), Done("b1", 700, 0.86, 0.81, 0.91, 12)])).Legend);
    }

    // Mutation: SweepTable puts back the features, images/s and cached columns -> fails (rows wrap at 80 columns).
    [Fact]
    public void The_console_table_reads_at_80_columns_one_line_per_variant()
    {
        VariantResult[] variants =
        [
            Done("phi=0.5", 300, 0.801, 0.752, 0.85, 3.21),
            Done("b0", 390, 0.85, 0.80, 0.90, 9.87),
            Done("b1", 700, 0.854, 0.803, 0.905, 16.5),
            new("b7", 600, 63_786_744, 37_000_000_000, 2560) { Skipped = "the time budget of 60 s was spent after 61.2 s; larger variants were not tried" },
        ];
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No, Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 80;
        SweepTable.Write(Result(variants), console);
        var lines = writer.ToString().Split('\n').Select(l => l.TrimEnd()).ToList();

        Assert.All(lines, l => Assert.True(l.Length <= 80, $"wider than 80 columns: {l}"));
        Assert.Contains(lines, l => l.Contains("accuracy, 95% CI") && l.Contains("ms/image") && l.Contains("variant"));
        Assert.Contains(lines, l => l.Contains("phi=0.5") && l.Contains("80.1% 75.2–85.0") && l.Contains("3.21"));
        Assert.Contains(lines, l => l.Contains("b0") && l.Contains("85.0% 80.0–90.0") && l.Contains("9.87") && l.Contains("recommended"));
        Assert.Contains(lines, l => l.Contains("b7") && l.Contains("skipped"));
        Assert.Contains("b7 skipped: the time budget of 60 s", string.Join(" ", lines));
        Assert.Contains("Nadeau-Bengio", string.Join(" ", lines));
    }
}
