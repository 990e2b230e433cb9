using System.Diagnostics;
using System.Globalization;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Throughput as users get it, one backbone graph, the same images for every contender, one process,
/// interleaved rounds: (a) the stock ML.NET chain a user builds (parallel cursors, CreateEnumerable),
/// (b) the library's fast path as <c>effnet featurize</c> calls it, (c) ONNX Runtime alone at the best
/// execution found by a grid search, and, for the per-image CPU cost, the stock chain's image
/// transforms alone and the fast decoder alone. Prints markdown for docs/BENCHMARKS.md: images/s,
/// core-ms per image, the machine's ceiling derived from those costs, and the end-to-end targets.
/// </summary>
internal static class FeaturizationBenchmark
{
    private sealed record ImageSet(string Key, string Label, IReadOnlyList<string> Paths, double Target, string TargetPrecision);

    private sealed record SetResult(ImageSet Set, SideBySide.Result Result, OrtAloneGrid.Setting OrtSetting)
    {
        public double Stock => Result.MedianRates[0];
        public double Ours => Result.MedianRates[1];
        public double Ort => Result.MedianRates[2];
        public double StockCoreMs => Result.MedianCoreMs[0];
        public double OursCoreMs => Result.MedianCoreMs[1];
        public double InferenceCoreMs => Result.MedianCoreMs[2];
        public double StockDecodeCoreMs => Result.MedianCoreMs[3];
        public double FastDecodeCoreMs => Result.MedianCoreMs[4];
        public double StockCores => Result.MedianCores[0];
        public double OursCores => Result.MedianCores[1];

        /// <summary>Why this set's ratios against the stock chain may not be published; empty when they may.</summary>
        public IReadOnlyList<string> Problems => Fairness.Problems(Set.Paths.Count, StockCores);

        public string RatioCell(double ratio) => Fairness.RatioCell(ratio, Set.Paths.Count, StockCores);

        /// <summary>Images/s with every core busy decoding (fast decoder) and inferring (best execution), nothing else.</summary>
        public double Ceiling => 1000.0 * Environment.ProcessorCount / (FastDecodeCoreMs + InferenceCoreMs);
    }

    public static int Run(BenchmarkArgs args)
    {
        var inv = CultureInfo.InvariantCulture;
        var cores = Environment.ProcessorCount;
        var rounds = args.RoundsOr(3);
        // Every set is checked before anything is made or measured: a refused run costs seconds, not minutes.
        List<ImageSet> sets;
        try
        {
            sets = Sets(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"featurize: {e.Message}");
            return 3;
        }
        var options = args.FeaturizerOptions();
        var backbone = EfficientNetBackbone.Resolve(options);
        var ml = new MLContext(0);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: options)
            .Fit(ml.Data.LoadFromEnumerable(Array.Empty<UserBuiltStockChain.PathRow>()));
        using var session = new FeatureSession(backbone.ToBytes(), 1);
        using var stock = new UserBuiltStockChain(ml, backbone, session.InputHeight);
        using var grid = new OrtAloneGrid(backbone.ToBytes());

        Console.WriteLine(string.Create(inv, $"# featurize: EfficientNet {args.Variant} ({args.Precision}, random weights), {cores} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average at start {LoadAverage()}"));
        Console.WriteLine(string.Create(inv, $"fast path: BatchSize {options.BatchSize}, Threads {options.Threads} (defaults unless changed); {rounds} interleaved rounds per set; rates are medians, ratios medians of per-round ratios"));
        Console.WriteLine(string.Create(inv, $"fair only when a set has ≥ {Fairness.MinimumImages} images and the stock chain used ≥ {Fairness.MinimumStockCores:F1} cores (CPU time / wall time, median of rounds); otherwise marked UNFAIR"));
        foreach (var note in sets.Select(s => s.Paths.Count).Distinct().Select(Fairness.UnevenSplitNote).OfType<string>())
            Console.WriteLine(note);
        Console.WriteLine();

        var results = new List<SetResult>();
        OrtAloneGrid.Setting? best = null;
        foreach (var set in sets)
        {
            var tensors = new ReadyTensors(session, set.Paths, 1);
            best ??= grid.Search(tensors, Math.Min(192, tensors.Count), rounds: 2);
            var ortSetting = best;
            var data = stock.Paths(set.Paths);
            var images = set.Paths.Select(p => new LabeledImage(p, "")).ToList();
            var pixels = new ThreadLocal<float[]>(() => new float[session.ImageSize]);
            Console.Error.WriteLine($"measuring {set.Label} …");
            var result = SideBySide.Measure(rounds, set.Paths.Count, 1,
                () => stock.Featurize(data),
                () => ImageClassifierTrainer.Featurize(ml, featurizer, images),
                () => tensors.Run(grid.SessionFor(ortSetting), ortSetting.Batch, ortSetting.Runs, tensors.Count),
                () => stock.Decode(data),
                () => Parallel.ForEach(set.Paths, p => FastImageDecoder.Decode(p, session.InputHeight, pixels.Value!)));
            results.Add(new SetResult(set, result, ortSetting));
        }

        Console.WriteLine("## Throughput, images/s");
        Console.WriteLine();
        Console.WriteLine("| images | (a) stock ML.NET chain | (b) EffNet.MLNet fast path | (c) ONNX Runtime alone, best | cores used: a / b | b / a | b / c | a's core-ms ÷ b's |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
            Console.WriteLine(string.Create(inv, $"| {r.Set.Label} | {r.Stock:F1} | {r.Ours:F1} | {r.Ort:F1} | {r.StockCores:F2} / {r.OursCores:F2} | {r.RatioCell(r.Result.Ratio(1, 0))} | {r.Result.Ratio(1, 2):F2} | {r.StockCoreMs / r.OursCoreMs:F2} |"));
        Console.WriteLine();
        Console.WriteLine("The last column compares CPU cost per image, which other load on the machine disturbs much less than images/s.");
        Console.WriteLine();
        Console.WriteLine("## CPU cost per image, core-ms (process CPU time over the run / images)");
        Console.WriteLine();
        Console.WriteLine("| images | stock chain cores | stock decode (LoadImages → ResizeImages → ExtractPixels) | fast decoder | inference (best execution) | stock chain end to end | fast path end to end |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var r in results)
            Console.WriteLine(string.Create(inv, $"| {r.Set.Label} | {r.StockCores:F2} | {r.StockDecodeCoreMs:F1} | {r.FastDecodeCoreMs:F1} | {r.InferenceCoreMs:F1} | {r.StockCoreMs:F1} | {r.OursCoreMs:F1} |"));
        Console.WriteLine();
        Console.WriteLine($"## Ceiling and end-to-end targets ({cores} cores)");
        Console.WriteLine();
        Console.WriteLine($"Ceiling = {cores} cores × 1000 / (fast decoder core-ms + inference core-ms): every core busy decoding and inferring, nothing else.");
        Console.WriteLine();
        Console.WriteLine("| images | stock chain cores | target vs stock | ceiling, images/s | ceiling vs stock | required (target, or 90% of the ceiling if above it) | fast path vs stock | fast path / ceiling | met |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            var ceilingRatio = r.Ceiling / r.Stock;
            var required = r.Set.Target <= ceilingRatio ? r.Set.Target : 0.9 * ceilingRatio;
            var ratio = r.Result.Ratio(1, 0);
            var precisionNote = r.Set.TargetPrecision == args.Precision ? "" : $" (target is for {r.Set.TargetPrecision})";
            var met = r.Problems.Count > 0 ? "unknown (unfair run)" : ratio >= required ? "yes" : "no";
            Console.WriteLine(string.Create(inv,
                $"| {r.Set.Label} | {r.StockCores:F2} | ≥ {r.Set.Target:F1}× ({r.Set.TargetPrecision}) | {r.Ceiling:F0} | {ceilingRatio:F2}× | {required:F2}× | {r.RatioCell(ratio)} | {r.Ours / r.Ceiling:P0} | {met}{precisionNote} |"));
        }
        Console.WriteLine();
        Console.WriteLine($"ONNX Runtime alone ran at its grid-search best: {best}.");

        var large = sets.FirstOrDefault(s => s.Key == "2mp");
        if (large is not null) SmallSetFootnote(ml, stock, featurizer, large.Paths.Take(48).ToList(), rounds);

        Console.WriteLine();
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        var unfair = results.Where(r => r.Problems.Count > 0).ToList();
        if (unfair.Count == 0)
        {
            Console.WriteLine(string.Create(inv, $"FAIR: every set had ≥ {Fairness.MinimumImages} images and the stock chain used ≥ {Fairness.MinimumStockCores:F1} cores."));
            return 0;
        }
        foreach (var r in unfair) Console.WriteLine($"UNFAIR, do not publish: {r.Set.Label}: {string.Join("; ", r.Problems)}");
        return 4;
    }

    private static List<ImageSet> Sets(BenchmarkArgs args)
    {
        foreach (var key in args.Sets)
            if (key is not ("small" or "2mp" or "camera")) throw new ArgumentException($"--sets takes small, 2mp and camera, not '{key}'.");
        foreach (var key in args.Sets.Where(k => k != "camera"))
            if (Fairness.SetSizeRefusal(key, args.Images, args.AllowSmall) is { } refusal) throw new ArgumentException(refusal);
        var camera = args.Sets.Contains("camera") ? CameraPhotos.Load(args.CameraDir, args.CameraImages) : null;
        if (camera is not null && Fairness.SetSizeRefusal("camera", camera.Paths.Count, args.AllowSmall) is { } cameraRefusal)
            throw new ArgumentException(cameraRefusal);

        var sets = new List<ImageSet>();
        foreach (var key in args.Sets)
        {
            sets.Add(key switch
            {
                "small" => new ImageSet(key, $"{args.Images} × 400×300 JPEG", SyntheticPhotos.Make(400, 300, args.Images), 1.3, "int8"),
                "2mp" => new ImageSet(key, $"{args.Images} × 1600×1200 JPEG (2 MP)", SyntheticPhotos.Make(1600, 1200, args.Images), 1.8, "int8"),
                _ => new ImageSet(key, camera!.Label, camera.Paths, 5.0, "fp32"),
            });
            Console.Error.WriteLine($"{sets[^1].Label}: {sets[^1].Paths.Average(p => new FileInfo(p).Length) / 1024:F0} KB on average");
        }
        return sets;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>What the old benchmark published: 48 images give ML.NET's parallel cursors too few rows to share. Shown, marked, never a headline.</summary>
    private static void SmallSetFootnote(MLContext ml, UserBuiltStockChain stock, EfficientNetFeaturizerTransformer featurizer, List<string> paths, int rounds)
    {
        var data = stock.Paths(paths);
        var images = paths.Select(p => new LabeledImage(p, "")).ToList();
        var result = SideBySide.Measure(rounds, paths.Count, 1, () => stock.Featurize(data), () => ImageClassifierTrainer.Featurize(ml, featurizer, images));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Footnote, UNFAIR by design: on only {paths.Count} of the 2 MP images the stock chain used {result.MedianCores[0]:F2} cores and ran at {result.MedianRates[0]:F1} images/s, the fast path at {result.MedianRates[1]:F1} ({result.Ratio(1, 0):F2}×): too few rows for ML.NET's parallel cursors, which is why every set above must have at least {Fairness.MinimumImages}."));
    }

    /// <summary>Reads every feature vector of <paramref name="view"/>, which is what makes it compute them.</summary>
    public static void Drain(IDataView view)
    {
        using var cursor = view.GetRowCursor([view.Schema["Features"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext()) getter(ref buffer);
    }

    /// <summary>Resident memory every 500 images while the fast path featurizes <paramref name="count"/> 400×300 images (600 files, reused).</summary>
    public static int Memory(int count)
    {
        var ml = new MLContext(0);
        var paths = SyntheticPhotos.Make(400, 300, 600);
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true });
        var all = Enumerable.Range(0, count).Select(i => new UserBuiltStockChain.PathRow { ImagePath = paths[i % paths.Count] }).ToList();
        var data = ml.Data.LoadFromEnumerable(all);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone).Fit(data);
        var view = featurizer.Transform(data);
        using var cursor = view.GetRowCursor([view.Schema["Features"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        VBuffer<float> buffer = default;
        var process = Process.GetCurrentProcess();
        var watch = Stopwatch.StartNew();
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"# memory: the fast path over {count} 400×300 images, defaults, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine();
        Console.WriteLine("| images | resident MiB | peak resident MiB | images/s so far |");
        Console.WriteLine("|---|---|---|---|");
        var done = 0;
        var residentAt1000 = 0.0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            if (++done % 500 != 0 && done != count) continue;
            process.Refresh();
            var resident = process.WorkingSet64 / 1048576.0;
            if (done == 1000) residentAt1000 = resident;
            Console.WriteLine(string.Create(inv, $"| {done} | {resident:F0} | {process.PeakWorkingSet64 / 1048576.0:F0} | {done / watch.Elapsed.TotalSeconds:F1} |"));
        }
        process.Refresh();
        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"from 1,000 to {done} images resident memory moved {process.WorkingSet64 / 1048576.0 - residentAt1000:+0;-0} MiB; peak {process.PeakWorkingSet64 / 1048576.0:F0} MiB (bound: 1.5 GB, flat)"));
        return 0;
    }

    /// <summary>First featurization of a folder against a second one served by the feature cache.</summary>
    public static int Cache()
    {
        var ml = new MLContext(0);
        var paths = SyntheticPhotos.Make(400, 300, 160);
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true });
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone).Fit(ml.Data.LoadFromEnumerable(new[] { new UserBuiltStockChain.PathRow() }));
        var images = paths.Select(p => new LabeledImage(p, "")).ToList();
        var root = Path.Combine(Path.GetTempPath(), "effnet-bench-cache-" + Environment.ProcessId);
        try
        {
            var first = Stopwatch.StartNew();
            using (var cache = new FeatureCache(root, featurizer.FeatureIdentity, backbone.FeatureDimension))
                ImageClassifierTrainer.Featurize(ml, featurizer, images, cache);
            first.Stop();
            var second = Stopwatch.StartNew();
            int hits;
            using (var cache = new FeatureCache(root, featurizer.FeatureIdentity, backbone.FeatureDimension))
                (_, hits) = ImageClassifierTrainer.Featurize(ml, featurizer, images, cache);
            second.Stop();
            Console.WriteLine($"{images.Count} images: first run {first.Elapsed.TotalSeconds:F2} s, second run {second.Elapsed.TotalSeconds:F3} s ({hits} cache hits), speed-up {first.Elapsed / second.Elapsed:F0}x");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        return 0;
    }
}
