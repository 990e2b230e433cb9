using System.Globalization;

namespace EffNet.MLNet.Sweep;

/// <summary>The variant a sweep recommends, and why in one sentence.</summary>
/// <param name="Variant">The recommended variant; null when no variant qualifies.</param>
/// <param name="Reason">Why it was chosen, or why none was.</param>
public sealed record SweepRecommendation(string? Variant, string Reason)
{
    /// <summary>
    /// Always a variant on the Pareto frontier of measured cost (<see cref="ParetoFrontier"/>), so the chart
    /// and the recommendation agree. With no <paramref name="maxMillisecondsPerImage"/>: the fastest frontier
    /// variant whose mean accuracy reaches the lower end of the most accurate one's fold interval — the best
    /// cannot be told from it on this data. With it: the most accurate variant at or under that cost (the
    /// faster one on a tie).
    /// </summary>
    public static SweepRecommendation Choose(IReadOnlyList<VariantResult> results, double? maxMillisecondsPerImage)
    {
        ArgumentNullException.ThrowIfNull(results);
        var inv = CultureInfo.InvariantCulture;
        var frontier = ParetoFrontier.Of(results);
        if (frontier.Count == 0) return new SweepRecommendation(null, "no variant was evaluated");
        if (maxMillisecondsPerImage is { } limit)
        {
            // Every variant faster than a frontier point is less accurate, so the last frontier point within the limit is the most accurate within it.
            var pick = frontier.LastOrDefault(r => r.MillisecondsPerImage <= limit);
            if (pick is null)
            {
                var fastest = frontier[0];
                return new SweepRecommendation(null, string.Create(inv,
                    $"no variant runs within {limit:0.##} ms per image; the fastest, {fastest.Variant}, takes {fastest.MillisecondsPerImage:0.##} ms"));
            }
            return new SweepRecommendation(pick.Variant, string.Create(inv,
                $"the most accurate variant within {limit:0.##} ms per image ({pick.Accuracy!.Mean:P1} at {pick.MillisecondsPerImage:0.##} ms)"));
        }
        var best = frontier[^1];
        var fastestClose = frontier.First(r => r.Accuracy!.Mean >= best.Accuracy!.Low);
        return fastestClose == best
            ? new SweepRecommendation(best.Variant, string.Create(inv,
                $"the most accurate ({best.Accuracy!.Mean:P1}), and no faster variant comes within its fold interval ({best.Accuracy.Low:P1}–{best.Accuracy.High:P1})"))
            : new SweepRecommendation(fastestClose.Variant, string.Create(inv,
                $"the fastest variant within the fold noise of the best: {fastestClose.Accuracy!.Mean:P1} against {best.Variant}'s {best.Accuracy!.Mean:P1} (interval {best.Accuracy.Low:P1}–{best.Accuracy.High:P1})"));
    }
}
