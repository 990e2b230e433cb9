namespace EffNet.MLNet.Sweep;

/// <summary>Mean, standard deviation and a 95% confidence interval of per-fold accuracies.</summary>
/// <param name="Mean">Mean over the folds.</param>
/// <param name="StandardDeviation">Sample standard deviation over the folds.</param>
/// <param name="Low">Lower end of the 95% interval (see <see cref="Method"/>), at least 0.</param>
/// <param name="High">Upper end, at most 1.</param>
public sealed record FoldStatistics(double Mean, double StandardDeviation, double Low, double High)
{
    /// <summary>
    /// How the interval is computed, as <c>sweep.json</c> names it. Cross-validation folds share most of their
    /// training images, so their accuracies are correlated and the naive variance s²/k is too small;
    /// Nadeau and Bengio's correction (Machine Learning 52, 2003) widens it to s²·(1/k + n_test/n_train).
    /// </summary>
    public const string Method =
        "Nadeau-Bengio corrected resampled t: mean +/- t(0.975, k-1) * s * sqrt(1/k + n_test/n_train), s the sample standard deviation of the k fold accuracies";

    /// <summary>Statistics of at least two per-fold accuracies (see <see cref="Method"/>).</summary>
    /// <param name="values">Accuracy on each held-out fold.</param>
    /// <param name="testToTrainRatio">Images held out per fold over images trained on per fold (about 1/(k−1) for k folds); 0 gives the naive interval.</param>
    public static FoldStatistics Of(IReadOnlyList<double> values, double testToTrainRatio)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count < 2) throw new ArgumentException("A confidence interval needs at least two folds.", nameof(values));
        if (!(testToTrainRatio >= 0) || double.IsInfinity(testToTrainRatio))
            throw new ArgumentOutOfRangeException(nameof(testToTrainRatio), testToTrainRatio, "The test-to-train ratio must be a finite number ≥ 0.");
        var k = values.Count;
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (k - 1);
        var half = StudentT.Quantile(0.975, k - 1) * Math.Sqrt(variance * (1.0 / k + testToTrainRatio));
        return new FoldStatistics(mean, Math.Sqrt(variance), Math.Max(0, mean - half), Math.Min(1, mean + half));
    }
}
