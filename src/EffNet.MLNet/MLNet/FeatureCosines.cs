namespace EffNet.MLNet;

/// <summary>Median, 5th percentile and lowest of per-image cosines between int8 and float32 features.</summary>
internal readonly record struct FeatureCosines(double Median, double FifthPercentile, double Worst)
{
    public static FeatureCosines Of(IReadOnlyList<float[]> int8, IReadOnlyList<float[]> fp32)
    {
        var cosines = int8.Select((features, i) => Cosine(features, fp32[i])).Order().ToArray();
        return new(Percentile(cosines, 0.5), Percentile(cosines, 0.05), cosines[0]);
    }

    public bool Meets(Int8Target target) => Median >= target.MedianCosine && FifthPercentile >= target.FifthPercentileCosine;

    /// <summary>How far the figure nearest its bound lies above it (negative: below): what the block search maximises.</summary>
    public double Slack(Int8Target target) => Math.Min(Median - target.MedianCosine, FifthPercentile - target.FifthPercentileCosine);

    // Linear interpolation between order statistics (numpy's default), so that the 5th percentile of 16 images is not simply the worst.
    private static double Percentile(double[] sorted, double p)
    {
        var position = p * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
        // Two all-zero vectors agree; one all-zero vector against another does not.
        return na == 0 && nb == 0 ? 1 : na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
