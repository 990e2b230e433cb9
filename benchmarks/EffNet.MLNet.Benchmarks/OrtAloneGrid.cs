using System.Globalization;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// "ONNX Runtime alone" at its best: every combination of batch size, intra-op threads per run and
/// runs kept going at once on one session, timed side by side on ready tensors of real pixels.
/// </summary>
internal sealed class OrtAloneGrid : IDisposable
{
    public static readonly int[] BatchSizes = [1, 4, 8, 16];

    private readonly Dictionary<int, FeatureSession> _sessions = [];

    public sealed record Setting(int Batch, int IntraOpThreads, int Runs)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"batch {Batch}, {IntraOpThreads} intra-op thread(s), {Runs} concurrent run(s)");
    }

    /// <summary>The grid alone, on 192 ready 400×300 images: the <c>ort</c> command.</summary>
    public static int Run(BenchmarkArgs args)
    {
        var backbone = EfficientNetBackbone.Resolve(args.FeaturizerOptions());
        using var session = new FeatureSession(backbone.ToBytes(), 1);
        using var grid = new OrtAloneGrid(backbone.ToBytes());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# ort: EfficientNet {args.Variant} ({args.Precision}), {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        var tensors = new ReadyTensors(session, SyntheticPhotos.Make(400, 300, 192), 1);
        grid.Search(tensors, 192, args.RoundsOr(3));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Two threads running batches of 1 on one single-threaded session were both inside Run {RunOverlap(session, tensors):P0} of the time (near 0% would mean ONNX Runtime serialises them)."));
        return 0;
    }

    /// <summary>Of the time two threads spend in Run on one session, the share in which both are inside it at once.</summary>
    private static double RunOverlap(FeatureSession session, ReadyTensors tensors)
    {
        var inside = 0;
        long both = 0, any = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var gate = new object();
        long last = 0;
        void Account(int delta)
        {
            lock (gate)
            {
                var now = clock.ElapsedTicks;
                if (inside >= 1) any += now - last;
                if (inside == 2) both += now - last;
                last = now;
                inside += delta;
            }
        }
        var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            var pixels = new float[session.ImageSize];
            var output = new float[session.FeatureDimension];
            for (var i = 0; i < 40; i++)
            {
                Account(+1);
                session.Run(pixels, 1, output);
                Account(-1);
            }
        })).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        return (double)both / any;
    }

    public OrtAloneGrid(byte[] model)
    {
        var cores = Environment.ProcessorCount;
        foreach (var threads in new[] { 1, cores }.Distinct()) _sessions[threads] = new FeatureSession(model, threads);
        Settings = [.. from batch in BatchSizes
                       from threads in _sessions.Keys
                       from runs in new[] { 1, cores }.Distinct()
                       select new Setting(batch, threads, runs)];
    }

    public IReadOnlyList<Setting> Settings { get; }

    public FeatureSession SessionFor(Setting setting) => _sessions[setting.IntraOpThreads];

    /// <summary>Times every setting over the first <paramref name="count"/> images; returns the best and prints the grid as a markdown table.</summary>
    public Setting Search(ReadyTensors tensors, int count, int rounds)
    {
        count = Math.Min(count, tensors.Count);
        var contenders = Settings.Select(s => (Action)(() => tensors.Run(SessionFor(s), s.Batch, s.Runs, count))).ToArray();
        foreach (var c in contenders) c(); // ONNX Runtime plans memory per input shape on the first run
        var result = SideBySide.Measure(rounds, count, 1, contenders);
        var best = Enumerable.Range(0, Settings.Count).MaxBy(i => result.MedianRates[i]);

        var columns = Settings.Select(s => (s.IntraOpThreads, s.Runs)).Distinct().ToList();
        Console.WriteLine($"ONNX Runtime alone, one session, {count} ready images, {rounds} interleaved rounds: images/s (core-ms per image)");
        Console.WriteLine();
        Console.WriteLine("| batch | " + string.Join(" | ", columns.Select(c => $"{c.IntraOpThreads} intra-op × {c.Runs} concurrent")) + " |");
        Console.WriteLine("|---|" + string.Concat(columns.Select(_ => "---|")));
        foreach (var batch in BatchSizes)
        {
            var cells = columns.Select(c =>
            {
                var i = Settings.ToList().FindIndex(s => s.Batch == batch && s.IntraOpThreads == c.IntraOpThreads && s.Runs == c.Runs);
                var cell = string.Create(CultureInfo.InvariantCulture, $"{result.MedianRates[i]:F1} ({result.MedianCoreMs[i]:F1})");
                return i == best ? $"**{cell}**" : cell;
            });
            Console.WriteLine($"| {batch} | " + string.Join(" | ", cells) + " |");
        }
        Console.WriteLine();
        Console.WriteLine($"best: {Settings[best]}");
        Console.WriteLine();
        return Settings[best];
    }

    public void Dispose()
    {
        foreach (var s in _sessions.Values) s.Dispose();
    }
}
