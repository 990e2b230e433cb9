namespace EffNet.MLNet.Sweep;

/// <summary>Mean, standard deviation and a 95% confidence interval of per-fold accuracies.</summary>
/// <param name="Mean">Mean over the folds.</param>
/// <param name="StandardDeviation">Sample standard deviation over the folds.</param>
/// <param name="Low">Lower end of the 95% interval (Student's t on the fold means), at least 0.</param>
/// <param name="High">Upper end, at most 1.</param>
public sealed record FoldStatistics(double Mean, double StandardDeviation, double Low, double High)
{
    // Two-sided 95% quantiles of Student's t for 1…30 degrees of freedom.
    private static readonly double[] T95 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>Statistics of at least two per-fold values.</summary>
    public static FoldStatistics Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count < 2) throw new ArgumentException("A confidence interval needs at least two folds.", nameof(values));
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        var degrees = values.Count - 1;
        var t = degrees <= T95.Length ? T95[degrees - 1] : 1.96;
        var half = t * sd / Math.Sqrt(values.Count);
        return new FoldStatistics(mean, sd, Math.Max(0, mean - half), Math.Min(1, mean + half));
    }
}
