using System.Diagnostics;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Times several contenders in interleaved rounds (the order rotates every round), so drift in
/// machine load hits all of them alike. Reports each one's median throughput, its median CPU cost
/// per item (the process's CPU time over the call, every thread counted: core-ms, which a busy
/// machine disturbs much less than wall time), its median cores in use (that CPU time over the
/// call's wall time: what shows a contender that left cores idle) and, for ratios, the median of per-round ratios
/// (paired, so a slow moment of the machine cancels out).
/// </summary>
internal static class SideBySide
{
    public sealed record Result(IReadOnlyList<double> MedianRates, IReadOnlyList<double[]> Samples, IReadOnlyList<double> MedianCoreMs, IReadOnlyList<double> MedianCores)
    {
        /// <summary>Median over rounds of contender <paramref name="a"/>'s rate over <paramref name="b"/>'s in the same round.</summary>
        public double Ratio(int a, int b) => Median(Samples[a].Zip(Samples[b], (x, y) => x / y));

        public IReadOnlyList<double> MedianRatiosToLast => Samples.Select((_, i) => Ratio(i, Samples.Count - 1)).ToList();
    }

    public static Result Measure(int rounds, int itemsPerCall, int callsPerRound, params Action[] contenders)
    {
        var samples = contenders.Select(_ => new double[rounds]).ToArray();
        var coreMs = contenders.Select(_ => new double[rounds]).ToArray();
        var cores = contenders.Select(_ => new double[rounds]).ToArray();
        var process = Process.GetCurrentProcess();
        for (var round = 0; round < rounds; round++)
            for (var k = 0; k < contenders.Length; k++)
            {
                var i = (k + round) % contenders.Length;
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                for (var c = 0; c < callsPerRound; c++) contenders[i]();
                var wall = watch.Elapsed;
                samples[i][round] = itemsPerCall * callsPerRound / wall.TotalSeconds;
                process.Refresh();
                var used = process.TotalProcessorTime - cpu;
                coreMs[i][round] = used.TotalMilliseconds / (itemsPerCall * callsPerRound);
                cores[i][round] = used / wall;
            }
        return new Result(samples.Select(s => Median(s)).ToList(), samples, coreMs.Select(s => Median(s)).ToList(), cores.Select(s => Median(s)).ToList());
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
