using EffNet.MLNet.Sweep;

namespace EffNet.MLNet.Tests.Sweep;

/// <summary>The recommendation rule, the frontier, the folds and the interval, on synthetic results.</summary>
public class SweepRuleTests
{
    private static VariantResult Done(string name, long macs, double mean, double low, double high, double ms) =>
        new(name, 224, macs * 10, macs, 1280)
        {
            FoldAccuracies = [mean, mean],
            Accuracy = new FoldStatistics(mean, 0.01, low, high),
            MillisecondsPerImage = ms,
            ImagesPerSecond = 1000 / ms,
        };

    private static VariantResult Skipped(string name, long macs) => new(name, 224, macs * 10, macs, 1280) { Skipped = "time budget spent" };

    [Fact]
    public void Recommends_the_smallest_variant_within_the_fold_noise_of_the_best()
    {
        var results = new[]
        {
            Done("b1", 700, 0.86, 0.80, 0.92, 4),    // within the best's interval, but larger than b0
            Done("b0", 390, 0.85, 0.79, 0.91, 2),    // within: the smallest that is
            Done("b3", 1800, 0.90, 0.84, 0.96, 12),  // the best
            Done("b2", 1000, 0.83, 0.77, 0.89, 6),   // below the best's lower end 0.84
            Skipped("b4", 4200),
        };
        var pick = SweepRecommendation.Choose(results, null);
        Assert.Equal("b0", pick.Variant);
        Assert.Contains("within the fold noise of the best", pick.Reason);
        Assert.Contains("b3", pick.Reason);
    }

    [Fact]
    public void Recommends_the_best_when_no_smaller_variant_reaches_its_interval()
    {
        var results = new[] { Done("b0", 390, 0.70, 0.65, 0.75, 2), Done("b1", 700, 0.74, 0.70, 0.78, 4), Done("b2", 1000, 0.90, 0.88, 0.92, 6) };
        var pick = SweepRecommendation.Choose(results, null);
        Assert.Equal("b2", pick.Variant);
        Assert.Contains("the most accurate", pick.Reason);
    }

    [Fact]
    public void With_a_cost_limit_recommends_the_most_accurate_variant_within_it()
    {
        var results = new[] { Done("b0", 390, 0.80, 0.7, 0.9, 2), Done("b1", 700, 0.85, 0.8, 0.9, 4.5), Done("b2", 1000, 0.95, 0.9, 1, 8) };
        Assert.Equal("b1", SweepRecommendation.Choose(results, 5).Variant);
        Assert.Equal("b2", SweepRecommendation.Choose(results, 8).Variant);   // at the limit counts
        var none = SweepRecommendation.Choose(results, 1);
        Assert.Null(none.Variant);
        Assert.Contains("no variant runs within 1 ms per image", none.Reason);
        Assert.Contains("b0", none.Reason);
    }

    [Fact]
    public void No_evaluated_variant_gives_no_recommendation()
    {
        var pick = SweepRecommendation.Choose([Skipped("b0", 390)], null);
        Assert.Null(pick.Variant);
        Assert.Equal("no variant was evaluated", pick.Reason);
    }

    [Fact]
    public void The_frontier_keeps_only_variants_more_accurate_than_every_faster_one()
    {
        var results = new[]
        {
            Done("b2", 1000, 0.84, 0.8, 0.9, 6),     // slower than b1 and less accurate: dominated
            Done("b0", 390, 0.80, 0.7, 0.9, 2),
            Done("b1", 700, 0.86, 0.8, 0.9, 4),
            Done("b3", 1800, 0.86, 0.8, 0.9, 12),    // slower, no more accurate: dominated
            Done("b4", 4200, 0.91, 0.8, 1.0, 25),
            Skipped("b5", 9900),
        };
        Assert.Equal(["b0", "b1", "b4"], ParetoFrontier.Of(results).Select(r => r.Variant));
    }

    [Fact]
    public void Stratified_folds_hold_every_label_in_equal_shares()
    {
        var labels = Enumerable.Repeat("a", 30).Concat(Enumerable.Repeat("b", 30)).Concat(Enumerable.Repeat("c", 7)).ToList();
        var fold = StratifiedKFold.Assign(labels, 5, seed: 3);
        for (var f = 0; f < 5; f++)
        {
            Assert.Equal(6, Enumerable.Range(0, labels.Count).Count(i => fold[i] == f && labels[i] == "a"));
            Assert.Equal(6, Enumerable.Range(0, labels.Count).Count(i => fold[i] == f && labels[i] == "b"));
            Assert.InRange(Enumerable.Range(0, labels.Count).Count(i => fold[i] == f && labels[i] == "c"), 1, 2);
        }
        Assert.Equal(fold, StratifiedKFold.Assign(labels, 5, seed: 3));
        Assert.NotEqual(fold, StratifiedKFold.Assign(labels, 5, seed: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedKFold.Assign(labels, 1, 0));
    }

    [Fact]
    public void Without_the_correction_the_interval_is_students_t_on_the_fold_accuracies()
    {
        // mean 0.8, sample sd 0.1, t(0.975, 2 d.f.) = 4.302653: half-width 4.302653 · 0.1 / √3 = 0.248414.
        var s = FoldStatistics.Of([0.7, 0.8, 0.9], testToTrainRatio: 0);
        Assert.Equal(0.8, s.Mean, 9);
        Assert.Equal(0.1, s.StandardDeviation, 9);
        Assert.Equal(0.8 - 0.248414, s.Low, 5);
        Assert.Equal(1.0, s.High);   // clamped
    }

    // Mutation: FoldStatistics.Of drops the n_test/n_train term (the naive s²/k) -> fails.
    [Fact]
    public void The_corrected_interval_adds_the_test_to_train_ratio_to_the_variance_and_is_wider()
    {
        double[] folds = [0.9, 0.92, 0.94, 0.96, 0.98];   // s = 0.0316228; 5 folds: n_test/n_train = 1/4
        var naive = FoldStatistics.Of(folds, 0);
        var corrected = FoldStatistics.Of(folds, 0.25);
        Assert.Equal(0.94 - 2.776445 * 0.0316228 / Math.Sqrt(5), naive.Low, 5);
        Assert.Equal(0.94 - 2.776445 * 0.0316228 * Math.Sqrt(1.0 / 5 + 0.25), corrected.Low, 5);
        Assert.True(corrected.High - corrected.Low > 1.4 * (naive.High - naive.Low));
        Assert.Throws<ArgumentOutOfRangeException>(() => FoldStatistics.Of(folds, -0.1));
    }

    // Quantiles as R's qt() gives them; the old table gave 1.96 past 30 degrees of freedom.
    // Mutation: StudentT.Quantile returns 1.96 beyond 30 degrees of freedom -> fails (40, 100).
    [Theory]
    [InlineData(0.975, 1, 12.706205)]
    [InlineData(0.975, 2, 4.302653)]
    [InlineData(0.975, 4, 2.776445)]
    [InlineData(0.975, 9, 2.262157)]
    [InlineData(0.975, 30, 2.042272)]
    [InlineData(0.975, 31, 2.039513)]
    [InlineData(0.975, 40, 2.021075)]
    [InlineData(0.975, 100, 1.983972)]
    [InlineData(0.975, 1e6, 1.959966)]
    [InlineData(0.995, 10, 3.169273)]
    [InlineData(0.9, 3, 1.637744)]
    [InlineData(0.025, 4, -2.776445)]
    [InlineData(0.975, 2.5, 3.574655)]   // by numerical integration of the density (Simpson, 20,000 steps)
    public void Student_t_quantiles_match_published_values_for_any_degrees_of_freedom(double p, double degrees, double expected)
    {
        Assert.Equal(expected, StudentT.Quantile(p, degrees), 1e-6);   // the published six decimals
        Assert.Equal(p, StudentT.Cdf(StudentT.Quantile(p, degrees), degrees), 1e-12);
    }

    [Fact]
    public void The_student_t_cdf_matches_known_values()
    {
        Assert.Equal(0.5, StudentT.Cdf(0, 7), 15);
        Assert.Equal(0.75, StudentT.Cdf(1, 1), 12);                 // Cauchy: ½ + atan(1)/π
        Assert.Equal(0.5 + Math.Atan(3) / Math.PI, StudentT.Cdf(3, 1), 12);
        Assert.Equal(0.5 + 2 / (2 * Math.Sqrt(2 + 4)), StudentT.Cdf(2, 2), 12);   // ν = 2: ½ + t / (2√(2 + t²))
        Assert.Equal(StudentT.Cdf(-1.3, 6), 1 - StudentT.Cdf(1.3, 6), 14);
        Assert.Equal(Math.Log(120), StudentT.LogGamma(6), 12);
        Assert.Equal(0.5 * Math.Log(Math.PI), StudentT.LogGamma(0.5), 12);
    }

    // Mutation: SweepRunner.AssignFolds deals every image to a fold, calibration images included -> fails.
    [Fact]
    public void Int8_calibration_images_are_trained_on_in_every_fold_and_scored_in_none()
    {
        var images = Enumerable.Range(0, 40).Select(i => new Training.LabeledImage($"/data/{i % 2}/{i}.jpg", (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var calibration = CalibrationSample.Pick(images.Select(i => i.ImagePath), 8).ToHashSet();
        var fold = SweepRunner.AssignFolds(images, 4, seed: 1, calibration);
        for (var i = 0; i < images.Count; i++)
            Assert.Equal(calibration.Contains(images[i].ImagePath), fold[i] == -1);
        Assert.All(Enumerable.Range(0, 4), f => Assert.Equal(8, fold.Count(x => x == f)));
        Assert.Contains("32 images could be scored (8 more calibrate int8", Assert.Throws<InvalidDataException>(() => SweepRunner.AssignFolds(images, 33, 1, calibration)).Message);
    }

    [Fact]
    public void A_weights_folder_gives_each_variant_its_own_checkpoint_by_name()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "efficientnet_b0_rwightman-3dd342df.pth", "tf_efficientnet_b1_aa-ea7a6ee0.pth", "efficientnet_b2_ra-bcdf34b7.pth",
                     "efficientnet_b2.safetensors", "efficientnet_b10_notes.txt" })
            File.WriteAllText(dir.File(name), "");
        Assert.Equal(dir.File("efficientnet_b0_rwightman-3dd342df.pth"), SweepWeights.Find(dir.Path, "b0"));
        Assert.Equal(dir.File("tf_efficientnet_b1_aa-ea7a6ee0.pth"), SweepWeights.Find(dir.Path, "b1"));
        Assert.Contains("has 2 checkpoints for b2", Assert.Throws<ArgumentException>(() => SweepWeights.Find(dir.Path, "b2")).Message);
        var missing = Assert.Throws<FileNotFoundException>(() => SweepWeights.Find(dir.Path, "b3"));
        Assert.Contains("efficientnet_b3_rwightman-cf984f9c.pth", missing.Message);
        Assert.Contains("no published weights", Assert.Throws<FileNotFoundException>(() => SweepWeights.Find(dir.Path, "phi=0.5")).Message);
    }
}
