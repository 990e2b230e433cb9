using System.Diagnostics;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Images/s of (a) the stock ML.NET chain a user builds by hand, (b) the library's estimator,
/// (c) the path the CLI takes (featurize into a table), (d) ONNX Runtime alone on ready tensors —
/// one backbone graph, the same images, interleaved rounds, one process.
/// </summary>
internal static class FeaturizationBenchmark
{
    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    public static int Run(BenchmarkArgs args)
    {
        var ml = new MLContext(0);
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = args.Variant, RandomInit = true });
        Console.WriteLine($"EfficientNet {args.Variant} (random weights), {Environment.ProcessorCount} cores, ONNX Runtime CPU, batch {args.Batch}");
        foreach (var (w, h, n) in new[] { (1600, 1200, 48), (400, 300, 160) })
        {
            var paths = SyntheticPhotos.Make(w, h, n);
            var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }).ToList());
            var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: new EfficientNetFeaturizerOptions { BatchSize = args.Batch }).Fit(data);
            var images = paths.Select(p => new LabeledImage(p, "")).ToList();
            using var session = new FeatureSession(backbone.ToBytes());
            var tensors = new ReadyTensors(session, paths, args.Batch);

            var rounds = Math.Max(3, args.Rounds / 3);
            var result = SideBySide.Measure(rounds, n, 1,
                () => Drain(featurizer.StockEquivalent.Transform(data)),
                () => Drain(featurizer.Transform(data)),
                () => ImageClassifierTrainer.Featurize(ml, featurizer, images),
                tensors.RunAll);
            var r = result.MedianRates;
            Console.WriteLine($"{w}x{h} JPEGs, {n} images, {rounds} interleaved rounds (medians):");
            Console.WriteLine($"  (a) stock ML.NET chain        {r[0],7:F1} images/s");
            Console.WriteLine($"  (b) EffNet.MLNet estimator    {r[1],7:F1} images/s");
            Console.WriteLine($"  (c) CLI featurize path        {r[2],7:F1} images/s");
            Console.WriteLine($"  (d) ONNX Runtime alone        {r[3],7:F1} images/s");
            Console.WriteLine($"  b/a = {result.Ratio(1, 0):F2}   b/d = {result.Ratio(1, 3):F2}   c/a = {result.Ratio(2, 0):F2}   (medians of per-round ratios)");
        }
        return 0;
    }

    /// <summary>Reads every feature vector of <paramref name="view"/>, which is what makes it compute them.</summary>
    public static void Drain(IDataView view)
    {
        using var cursor = view.GetRowCursor([view.Schema["Features"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext()) getter(ref buffer);
    }

    /// <summary>Peak resident memory while featurizing <paramref name="count"/> images (400×300 JPEGs, reused).</summary>
    public static int Memory(int count)
    {
        var ml = new MLContext(0);
        var paths = SyntheticPhotos.Make(400, 300, 160);
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true });
        var all = Enumerable.Range(0, count).Select(i => new PathRow { ImagePath = paths[i % paths.Count] }).ToList();
        var data = ml.Data.LoadFromEnumerable(all);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone).Fit(data);
        var view = featurizer.Transform(data);
        using var cursor = view.GetRowCursor([view.Schema["Features"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        VBuffer<float> buffer = default;
        var process = Process.GetCurrentProcess();
        var watch = Stopwatch.StartNew();
        long peakAtFifth = 0;
        var done = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            if (++done == count / 5) { process.Refresh(); peakAtFifth = process.PeakWorkingSet64; }
        }
        process.Refresh();
        Console.WriteLine($"featurized {done} images in {watch.Elapsed.TotalSeconds:F1} s ({done / watch.Elapsed.TotalSeconds:F1} images/s)");
        Console.WriteLine($"peak resident memory: {peakAtFifth / 1048576.0:F0} MiB after {count / 5} images, {process.PeakWorkingSet64 / 1048576.0:F0} MiB after {done}");
        return 0;
    }

    /// <summary>First featurization of a folder against a second one served by the feature cache.</summary>
    public static int Cache()
    {
        var ml = new MLContext(0);
        var paths = SyntheticPhotos.Make(400, 300, 160);
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true });
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone).Fit(ml.Data.LoadFromEnumerable(new[] { new PathRow() }));
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
