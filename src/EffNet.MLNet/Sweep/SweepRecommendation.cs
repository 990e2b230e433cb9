using System.Globalization;

namespace EffNet.MLNet.Sweep;

/// <summary>The variant a sweep recommends, and why in one sentence.</summary>
/// <param name="Variant">The recommended variant; null when no variant qualifies.</param>
/// <param name="Reason">Why it was chosen, or why none was.</param>
public sealed record SweepRecommendation(string? Variant, string Reason)
{
    /// <summary>
    /// With no <paramref name="maxMillisecondsPerImage"/>: the smallest variant (fewest multiply-adds)
    /// whose mean accuracy reaches the lower end of the best variant's fold interval — the best
    /// cannot be told from it on this data. With it: the most accurate variant at or under that
    /// cost (the faster one on a tie).
    /// </summary>
    public static SweepRecommendation Choose(IReadOnlyList<VariantResult> results, double? maxMillisecondsPerImage)
    {
        ArgumentNullException.ThrowIfNull(results);
        var inv = CultureInfo.InvariantCulture;
        var done = results.Where(r => r.Completed).ToList();
        if (done.Count == 0) return new SweepRecommendation(null, "no variant was evaluated");
        if (maxMillisecondsPerImage is { } limit)
        {
            var within = done.Where(r => r.MillisecondsPerImage <= limit).ToList();
            if (within.Count == 0)
            {
                var fastest = done.MinBy(r => r.MillisecondsPerImage)!;
                return new SweepRecommendation(null, string.Create(inv,
                    $"no variant runs within {limit:0.##} ms per image; the fastest, {fastest.Variant}, takes {fastest.MillisecondsPerImage:0.##} ms"));
            }
            var pick = within.OrderByDescending(r => r.Accuracy!.Mean).ThenBy(r => r.MillisecondsPerImage).First();
            return new SweepRecommendation(pick.Variant, string.Create(inv,
                $"the most accurate variant within {limit:0.##} ms per image ({pick.Accuracy!.Mean:P1} at {pick.MillisecondsPerImage:0.##} ms)"));
        }
        var best = done.OrderByDescending(r => r.Accuracy!.Mean).ThenBy(r => r.MultiplyAdds).First();
        var smallest = done.Where(r => r.Accuracy!.Mean >= best.Accuracy!.Low)
            .OrderBy(r => r.MultiplyAdds).ThenBy(r => r.Parameters).First();
        return smallest == best
            ? new SweepRecommendation(best.Variant, string.Create(inv,
                $"the most accurate ({best.Accuracy!.Mean:P1}), and no smaller variant comes within its fold interval ({best.Accuracy.Low:P1}–{best.Accuracy.High:P1})"))
            : new SweepRecommendation(smallest.Variant, string.Create(inv,
                $"the smallest variant within the fold noise of the best: {smallest.Accuracy!.Mean:P1} against {best.Variant}'s {best.Accuracy!.Mean:P1} (interval {best.Accuracy.Low:P1}–{best.Accuracy.High:P1})"));
    }
}
