using System.Text.Json;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Sweep;
using EffNet.MLNet.Training;
using SkiaSharp;

namespace EffNet.MLNet.Tests.Sweep;

/// <summary>
/// Two sweeps of b0 and φ = 0.5 at 64 pixels with random weights on sample-data, into one feature
/// cache: the machinery (counts, cache reuse, JSON, the picture), not the accuracies.
/// </summary>
public sealed class SweptSampleData : IDisposable
{
    public SweptSampleData()
    {
        Images = ImageDataset.FromFolder(SampleData.Folder);
        First = SweepRunner.Run(Images, Options);
        Second = SweepRunner.Run(Images, Options);
    }

    internal TempDir Home { get; } = new();

    public IReadOnlyList<LabeledImage> Images { get; }

    public SweepOptions Options => new()
    {
        Variants = ["phi=0.5", "b0"],   // given largest first: the sweep runs the smallest first
        RandomInit = true,
        Resolution = 64,
        Folds = 3,
        TimedRuns = 3,
        CacheDirectory = System.IO.Path.Combine(Home.Path, "features"),
    };

    public SweepResult First { get; }

    public SweepResult Second { get; }

    public void Dispose() => Home.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SweptSampleDataCollection : ICollectionFixture<SweptSampleData>
{
    public const string Name = "swept sample data";
}

[Collection(SweptSampleDataCollection.Name)]
public class SweepRunnerTests(SweptSampleData swept)
{
    [Fact]
    public void Every_variant_gets_fold_accuracies_costs_and_its_size_smallest_first()
    {
        var r = swept.First;
        Assert.Equal(["b0", "phi=0.5"], r.Variants.Select(v => v.Variant));
        Assert.Equal(90, r.Images);
        Assert.Equal(["checkers", "discs", "stripes"], r.Labels);
        foreach (var v in r.Variants)
        {
            Assert.True(v.Completed, v.Skipped);
            Assert.Equal(3, v.FoldAccuracies.Count);
            Assert.All(v.FoldAccuracies, a => Assert.InRange(a, 0, 1));
            Assert.Equal(v.FoldAccuracies.Average(), v.Accuracy!.Mean, 9);
            Assert.True(v.Accuracy.Low <= v.Accuracy.Mean && v.Accuracy.Mean <= v.Accuracy.High);
            Assert.True(v.MillisecondsPerImage > 0);
            Assert.True(v.ImagesPerSecond > 0);
            var architecture = EfficientNetArchitecture.For(EfficientNetVariant.Parse(v.Variant));
            Assert.Equal(64, v.Resolution);
            Assert.Equal(ArchitectureCost.Parameters(architecture, classes: 0), v.Parameters);
            Assert.Equal(ArchitectureCost.MultiplyAdds(architecture, 64, classes: 0), v.MultiplyAdds);
            Assert.Equal(architecture.FeatureDimension, v.FeatureDimension);
        }
        Assert.Equal(4_007_548, r.Variants[0].Parameters);   // torchvision's B0 without its 1000-class head
        Assert.Equal(1344, r.Variants[1].FeatureDimension);
        Assert.True(r.RandomInit);
        Assert.Equal(SweepRunner.RandomInitWarning, r.Warning);
        Assert.Contains("say nothing about", r.Warning);
        Assert.NotNull(r.Recommendation.Variant);
        Assert.NotEmpty(r.ParetoFrontier);
    }

    [Fact]
    public void The_first_sweep_featurizes_every_image_and_the_second_takes_all_from_the_cache()
    {
        Assert.All(swept.First.Variants, v => Assert.Equal((90, 0), (v.FeaturizedImages, v.CacheHits)));
        Assert.All(swept.Second.Variants, v => Assert.Equal((0, 90), (v.FeaturizedImages, v.CacheHits)));
        // The same features give the same folds and the same accuracies.
        Assert.Equal(swept.First.Variants.Select(v => v.FoldAccuracies), swept.Second.Variants.Select(v => v.FoldAccuracies));
    }

    [Fact]
    public void Sweep_json_has_the_documented_fields_and_reads_back()
    {
        using var dir = new TempDir();
        var path = dir.File("sweep.json");
        swept.First.Save(path);
        var root = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        Assert.Equal(["formatVersion", "images", "labels", "randomInit", "warning", "precision", "folds", "interval", "calibrationImages", "trainer", "timeBudgetSeconds",
            "stoppedByTimeBudget", "maxMillisecondsPerImage", "machine", "variants", "paretoFrontier", "recommendation", "badImages", "seconds"],
            root.EnumerateObject().Select(p => p.Name));
        var variant = root.GetProperty("variants")[0];
        Assert.Equal(["variant", "resolution", "parameters", "multiplyAdds", "featureDimension", "skipped", "foldAccuracies", "accuracy",
            "millisecondsPerImage", "imagesPerSecond", "featurizedImages", "cacheHits", "seconds", "completed"],
            variant.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["mean", "standardDeviation", "low", "high"], variant.GetProperty("accuracy").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["variant", "reason"], root.GetProperty("recommendation").EnumerateObject().Select(p => p.Name));
        Assert.Equal("fp32", root.GetProperty("precision").GetString());
        Assert.StartsWith("Nadeau-Bengio corrected resampled t", root.GetProperty("interval").GetString());
        Assert.Equal(0, root.GetProperty("calibrationImages").GetInt32());
        var back = SweepResult.Load(path);
        Assert.Equal(swept.First.Variants.Select(v => v.Accuracy), back.Variants.Select(v => v.Accuracy));
        Assert.Equal(swept.First.Recommendation, back.Recommendation);
    }

    [Fact]
    public void The_chart_is_a_png_of_the_documented_size_with_a_point_per_variant()
    {
        // Every evaluated variant on the frontier, so the frontier line is drawn whatever the timings measured
        // (a measured frontier can be one point: the fastest variant also the most accurate -- then no line, by design).
        var drawn = swept.First with { ParetoFrontier = [.. swept.First.Variants.Where(v => v.Completed).Select(v => v.Variant)] };
        Assert.True(drawn.ParetoFrontier.Count >= 2);
        var png = SweepChart.Render(drawn);
        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        Assert.Equal((SweepChart.Width, SweepChart.Height), (bitmap.Width, bitmap.Height));
        // Points are drawn in blue, the frontier in orange: both are on the picture.
        var colours = new HashSet<SKColor>();
        for (var y = 0; y < bitmap.Height; y += 1)
            for (var x = 0; x < bitmap.Width; x += 1) colours.Add(bitmap.GetPixel(x, y));
        Assert.Contains(new SKColor(30, 90, 180), colours);
        Assert.Contains(new SKColor(230, 120, 20), colours);
        // With nothing evaluated the picture says so rather than failing.
        var empty = swept.First with { Variants = [swept.First.Variants[0] with { Skipped = "x" }], ParetoFrontier = [] };
        Assert.NotNull(SKBitmap.Decode(SweepChart.Render(empty)));
    }

    [Fact]
    public void A_spent_time_budget_stops_adding_larger_variants_and_says_so()
    {
        // Features are cached by the fixture, so the first variant costs almost nothing; no estimate skips it.
        var r = SweepRunner.Run(swept.Images, swept.Options with { TimeBudget = TimeSpan.FromMilliseconds(1), EstimatedCoreMillisecondsPerGigaMac = 0 });
        Assert.True(r.Variants[0].Completed);
        Assert.False(r.Variants[1].Completed);
        Assert.StartsWith("the time budget of 0 s was spent after", r.Variants[1].Skipped);
        Assert.Contains("larger variants were not tried", r.Variants[1].Skipped);
        Assert.True(r.StoppedByTimeBudget);
        Assert.Equal("b0", r.Recommendation.Variant);
    }

    [Fact]
    public void A_variant_whose_estimated_featurization_exceeds_the_budget_is_skipped_with_the_estimate()
    {
        using var emptyCache = new TempDir();
        var options = swept.Options with
        {
            Variants = ["b0"],
            CacheDirectory = emptyCache.Path,
            TimeBudget = TimeSpan.FromMinutes(10),
            EstimatedCoreMillisecondsPerGigaMac = 1e9,   // a machine so slow that 90 images cannot fit in ten minutes
        };
        var r = SweepRunner.Run(swept.Images, options);
        var skipped = Assert.Single(r.Variants);
        Assert.False(skipped.Completed);
        Assert.Matches(@"^estimated \d+(\.\d)? s to featurize 90 images not in the feature cache .*, more than the \d+(\.\d)? s left of the 600 s time budget$", skipped.Skipped);
        Assert.Equal(0, skipped.FeaturizedImages);
        Assert.False(r.StoppedByTimeBudget);
        Assert.Null(r.Recommendation.Variant);
        // With the cache warm there is nothing to estimate: the same budget lets it run.
        var warm = SweepRunner.Run(swept.Images, options with { CacheDirectory = swept.Options.CacheDirectory });
        Assert.True(Assert.Single(warm.Variants).Completed);
    }

    [Fact]
    public void A_cost_limit_recommends_within_it()
    {
        var slowest = swept.First.Variants.Max(v => v.MillisecondsPerImage)!.Value;
        var r = SweepRunner.Run(swept.Images, swept.Options with { MaxMillisecondsPerImage = slowest * 1000 });
        Assert.Contains("within", r.Recommendation.Reason);
        Assert.Equal(r.Variants.OrderByDescending(v => v.Accuracy!.Mean).ThenBy(v => v.MillisecondsPerImage).First().Variant, r.Recommendation.Variant);
    }

    [Fact]
    public void A_precision_other_than_fp32_or_int8_is_refused_before_any_work()
    {
        var e = Assert.Throws<ArgumentException>(() => SweepRunner.Run(swept.Images, swept.Options with { Precision = "fp16" }));
        Assert.Contains("SweepOptions.Precision must be fp32 or int8, not 'fp16'", e.Message);
    }

    [Fact]
    public void An_int8_sweep_featurizes_with_the_int8_backbone_not_the_fp32_cache()
    {
        // A target any int8 graph meets: this test is about the cache, not the int8 check (Int8CheckTests).
        var r = SweepRunner.Run(swept.Images, swept.Options with
        {
            Precision = "int8", Variants = ["b0"], Int8Target = new Int8Target { MedianCosine = 0.01, FifthPercentileCosine = 0.01, MaxFloatLayers = 0 },
        });
        Assert.Equal("int8", r.Precision);
        Assert.Equal(30, r.CalibrationImages);   // 90 images over 3 folds: one fold's worth, never scored
        var b0 = Assert.Single(r.Variants);
        Assert.True(b0.Completed);
        Assert.False(Assert.IsType<Int8Fidelity>(b0.Int8Check).FellBackToFloat32);
        // A different backbone identity (precision=int8;calibration=…): nothing comes from the fp32 sweeps' cache.
        Assert.Equal(90, b0.FeaturizedImages);
        Assert.Equal(0, b0.CacheHits);
    }

    [Fact]
    public void Bad_sweep_settings_are_refused_with_what_to_do()
    {
        Assert.Contains("must lie in [2, 90] for 90 images, not 1", Assert.Throws<ArgumentException>(() => SweepRunner.Run(swept.Images, swept.Options with { Folds = 1 })).Message);
        var oneLabel = swept.Images.Where(i => i.Label == "discs").ToList();
        Assert.Contains("at least two labels", Assert.Throws<ArgumentException>(() => SweepRunner.Run(oneLabel, swept.Options)).Message);
        using var empty = new TempDir();
        var missing = Assert.Throws<FileNotFoundException>(() => SweepRunner.Run(swept.Images, swept.Options with { RandomInit = false, WeightsDirectory = empty.Path, Variants = ["b1"] }));
        Assert.Contains("efficientnet_b1_rwightman-533bc792.pth", missing.Message);
        Assert.Contains(empty.Path, missing.Message);
    }
}
