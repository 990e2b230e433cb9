using System.Globalization;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// When a figure against the stock ML.NET chain may be published. ML.NET's parallel cursors hand rows
/// out in blocks (128 on a 2-core machine), so a small set runs the stock chain on one thread and
/// flatters whatever it is compared with; and a busy machine starves it the same way. Both are caught:
/// the set size before the run, the cores the stock chain actually used after it.
/// </summary>
internal static class Fairness
{
    /// <summary>Fewest images a stock-chain set may have: two of ML.NET's 128-row blocks, so both cores of a 2-core machine get rows.</summary>
    public const int MinimumImages = 256;

    /// <summary>Cores the stock chain must keep busy: 90% of the machine (1.8 on 2 cores).</summary>
    public static double MinimumStockCores => 0.9 * Environment.ProcessorCount;

    /// <summary>Why a set of <paramref name="count"/> images may not run the stock chain, or null when it may.</summary>
    public static string? SetSizeRefusal(string set, int count, bool allowSmall) =>
        count >= MinimumImages || allowSmall
            ? null
            : $"the {set} set has {count} images; a figure against the stock ML.NET chain needs at least {MinimumImages} per set " +
              $"(ML.NET's parallel cursors hand rows out in blocks of 128 on 2 cores, so a smaller set runs the stock chain on one thread). " +
              $"Use --images 600 (or a larger --camera-dir), or --allow-small to run anyway with every figure marked UNFAIR.";

    /// <summary>Rows in each block ML.NET's parallel cursors hand out on a 2-core machine (measured: 600 rows split 344/256).</summary>
    public const int CursorBlockRows = 128;

    /// <summary>
    /// Null when <paramref name="count"/> rows split evenly into <see cref="CursorBlockRows"/>-row blocks
    /// over this machine's cores; else a note with the most cores the stock chain's cursors can average
    /// (the busiest thread's rows set the wall time), so an uneven set is not mistaken for a busy machine.
    /// </summary>
    public static string? UnevenSplitNote(int count)
    {
        var cores = Environment.ProcessorCount;
        var even = CursorBlockRows * cores;
        if (count % even == 0) return null;
        var busiest = 0;
        for (var start = 0; start < count; start += even) busiest += Math.Min(CursorBlockRows, count - start);
        return string.Create(CultureInfo.InvariantCulture,
            $"note: {count} images in {CursorBlockRows}-row blocks split unevenly over {cores} cores (the busiest cursor gets {busiest} rows), which alone caps the stock chain near {count / (double)busiest:F2} cores if each of its threads uses one core; a multiple of {even} (e.g. {2 * even}) splits evenly.");
    }

    /// <summary>Every reason a figure of this set is not fair; empty when it is.</summary>
    public static IReadOnlyList<string> Problems(int setSize, double stockCores)
    {
        var problems = new List<string>();
        if (stockCores < MinimumStockCores)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"stock chain used {stockCores:F2} cores (< {MinimumStockCores:F1} of {Environment.ProcessorCount})"));
        if (setSize < MinimumImages)
            problems.Add($"{setSize} images < {MinimumImages}");
        return problems;
    }

    /// <summary>
    /// A ratio against the stock chain as a table shows it: bold when fair; when the stock chain left
    /// cores idle, the reason instead of the number; when only the set was small, the number with UNFAIR beside it.
    /// </summary>
    public static string RatioCell(double ratio, int setSize, double stockCores)
    {
        var problems = Problems(setSize, stockCores);
        if (problems.Count == 0) return string.Create(CultureInfo.InvariantCulture, $"**{ratio:F2}×**");
        return stockCores < MinimumStockCores
            ? "UNFAIR: " + string.Join("; ", problems)
            : string.Create(CultureInfo.InvariantCulture, $"{ratio:F2}× UNFAIR: {string.Join("; ", problems)}");
    }
}
