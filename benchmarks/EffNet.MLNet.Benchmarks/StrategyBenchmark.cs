using System.Globalization;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// The fast path's execution strategies side by side: one run at a time over every core, or one
/// single-threaded run per core on one session; with or without a batch decoding while the runs
/// infer; at batch sizes 1, 4, 8 and 16. The decode pipeline is timed directly, paths in, features out.
/// </summary>
internal static class StrategyBenchmark
{
    private sealed record Strategy(string Name, int IntraOpThreads, Func<FeatureSession, int> BatchesInFlight);


    public static int Run(BenchmarkArgs args)
    {
        var inv = CultureInfo.InvariantCulture;
        var cores = Environment.ProcessorCount;
        var rounds = args.RoundsOr(2);
        var count = Math.Min(args.Images, 240);
        var backbone = EfficientNetBackbone.Resolve(args.FeaturizerOptions());
        // Every core named explicitly: ONNX Runtime's own default counts the machine's cores, not the ones this process may use.
        using var allCores = new FeatureSession(backbone.ToBytes(), cores);
        using var perCore = new FeatureSession(backbone.ToBytes(), 1);
        Strategy[] strategies =
        [
            new("one run, all cores, no overlap", cores, _ => 1),
            new("one run, all cores, next batch decoding", cores, _ => 2),
            new($"{perCore.ConcurrentRuns} runs × 1 thread, no extra batch", 1, s => s.ConcurrentRuns),
            new($"{perCore.ConcurrentRuns} runs × 1 thread + 1 batch decoding", 1, s => s.ConcurrentRuns + 1),
        ];
        Console.WriteLine(string.Create(inv, $"# strategy: EfficientNet {args.Variant}, {cores} cores, {count} images a set, {rounds} interleaved rounds, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        foreach (var (label, paths) in new[] { ("400×300", SyntheticPhotos.Make(400, 300, count)), ("1600×1200", SyntheticPhotos.Make(1600, 1200, count)) })
        {
            var settings = (from batch in OrtAloneGrid.BatchSizes from s in strategies select (batch, s)).ToList();
            var contenders = settings.Select(x => (Action)(() => Featurize(paths, x.s.IntraOpThreads == 1 ? perCore : allCores, x.batch, x.s))).ToArray();
            foreach (var c in contenders) c(); // first runs of a batch shape plan ONNX Runtime's memory
            var result = SideBySide.Measure(rounds, count, 1, contenders);
            var best = Enumerable.Range(0, settings.Count).MaxBy(i => result.MedianRates[i]);
            Console.WriteLine();
            Console.WriteLine($"## {label} JPEGs: images/s (core-ms per image)");
            Console.WriteLine();
            Console.WriteLine("| batch | " + string.Join(" | ", strategies.Select(s => s.Name)) + " |");
            Console.WriteLine("|---|" + string.Concat(strategies.Select(_ => "---|")));
            foreach (var batch in OrtAloneGrid.BatchSizes)
            {
                var cells = strategies.Select(s =>
                {
                    var i = settings.IndexOf((batch, s));
                    var cell = string.Create(inv, $"{result.MedianRates[i]:F1} ({result.MedianCoreMs[i]:F1})");
                    return i == best ? $"**{cell}**" : cell;
                });
                Console.WriteLine($"| {batch} | " + string.Join(" | ", cells) + " |");
            }
            Console.WriteLine();
            Console.WriteLine($"best: batch {settings[best].batch}, {settings[best].s.Name}");
        }
        return 0;
    }

    private static void Featurize(IReadOnlyList<string> paths, FeatureSession session, int batch, Strategy strategy)
    {
        var features = new float[batch * session.FeatureDimension];
        using var pipeline = new DecodePipeline(paths, session, batch, Environment.ProcessorCount, batchesInFlight: strategy.BatchesInFlight(session));
        while (pipeline.Next(features, out _, out _, out _)) { }
    }
}
