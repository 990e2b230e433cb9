namespace EffNet.MLNet.Sweep;

/// <summary>The variants no other variant beats on both accuracy and measured cost.</summary>
public static class ParetoFrontier
{
    /// <summary>
    /// The evaluated variants, fastest first, each more accurate than every faster one: the
    /// accuracy a user can buy for each step of cost. A variant slower and no more accurate than
    /// another is dominated and left out.
    /// </summary>
    public static IReadOnlyList<VariantResult> Of(IEnumerable<VariantResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var frontier = new List<VariantResult>();
        foreach (var r in results.Where(r => r.Completed)
                     .OrderBy(r => r.MillisecondsPerImage).ThenByDescending(r => r.Accuracy!.Mean)
                     .ThenBy(r => r.MultiplyAdds).ThenBy(r => r.Variant, StringComparer.Ordinal))
        {
            if (frontier.Count == 0 || r.Accuracy!.Mean > frontier[^1].Accuracy!.Mean) frontier.Add(r);
        }
        return frontier;
    }
}
