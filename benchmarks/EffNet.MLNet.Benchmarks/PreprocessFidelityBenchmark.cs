using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using EffNet.MLNet.Weights;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Both preprocessing modes against torchvision's own evaluation transform (PIL decode, Resize(256,
/// bicubic, antialias), CenterCrop(224)) on real photos, with a data-calibrated B0: per-image cosine of
/// the features, and each mode's featurization throughput on the same images, side by side in one run.
/// </summary>
internal static class PreprocessFidelityBenchmark
{
    public static int Run(BenchmarkArgs args)
    {
        var script = Path.Combine(RepoRoot.Find(), "tests", "fixtures", "make_torchvision_fixtures.py");
        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(script)))[..16];
        var work = Path.Combine(Path.GetTempPath(), "effnet-fixtures", hash + "-preprocess");
        if (!File.Exists(Path.Combine(work, "DONE")))
        {
            Console.WriteLine("Making the photos and torchvision's references (make_torchvision_fixtures.py preprocess) …");
            using var python = Process.Start("/usr/bin/python3", [script, "preprocess", work, "b0"])!;
            python.WaitForExit();
            if (python.ExitCode != 0) { Console.Error.WriteLine("The fixture script failed; install python3-torchvision and python3-skimage."); return 1; }
        }
        var names = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(work, "preprocess.names.json")))!;
        var reference = SafetensorsReader.Read(Path.Combine(work, "preprocess.reference.safetensors"))["features"].Data;
        var checkpoint = Path.Combine(work, "b0.pth");
        var paths = names.Select(n => Path.Combine(work, "images", n)).ToArray();
        var modes = new[] { Preprocessing.TorchvisionExact, Preprocessing.Fast };
        var ml = new MLContext(0);
        // Fitted once each, so the rounds time decoding and inference, not loading the checkpoint.
        var featurizers = modes.Select(mode => ml.Transforms.ExtractEfficientNetFeatures(options: new EfficientNetFeaturizerOptions { WeightsPath = checkpoint, Preprocessing = mode })
            .Fit(Paths(ml, paths))).ToArray();

        Console.WriteLine($"Features against torchvision's, {names.Length} photos (14 scikit-image photographs, 4 JPEGs of 12-24 MP made from them):");
        for (var m = 0; m < modes.Length; m++)
        {
            var mode = modes[m];
            var cosines = Featurize(ml, featurizers[m], paths).Select((f, i) => Cosine(f, reference.AsSpan(i * f.Length, f.Length))).ToArray();
            var worst = Array.IndexOf(cosines, cosines.Min());
            Console.WriteLine($"  {mode,-16} median cosine {Median(cosines):F5}, worst {cosines[worst]:F5} ({names[worst]})");
        }
        // What a stock ML.NET consumer of the saved .zip computes: its own chain (LoadImages, ResizeImages, ExtractPixels, ONNX).
        var stock = ml.Data.CreateEnumerable<FeatureRow>(featurizers[1].StockEquivalent.Transform(Paths(ml, paths)), reuseRowObject: false)
            .Select((f, i) => Cosine(f.Features, reference.AsSpan(i * f.Features.Length, f.Features.Length))).ToArray();
        var stockWorst = Array.IndexOf(stock, stock.Min());
        Console.WriteLine($"  {"saved .zip chain",-16} median cosine {Median(stock):F5}, worst {stock[stockWorst]:F5} ({names[stockWorst]})");

        var small = paths.Where(p => !p.Contains("mp.jpg", StringComparison.Ordinal)).ToArray();
        var large = paths.Where(p => p.Contains("mp.jpg", StringComparison.Ordinal)).ToArray();
        foreach (var (label, set, repeat) in new[] { ("scikit-image photos, 0.1-0.5 MP", small, 8), ("camera-size JPEGs, 12-24 MP", large, 2) })
        {
            var images = Enumerable.Repeat(set, repeat).SelectMany(s => s).ToArray();
            var result = SideBySide.Measure(Math.Max(3, args.Rounds / 4), images.Length, 1,
                featurizers.Select(featurizer => (Action)(() => Featurize(ml, featurizer, images))).ToArray());
            Console.WriteLine($"Throughput, {label} ({images.Length} images a round, decode + B0 on {Environment.ProcessorCount} cores, median of {Math.Max(3, args.Rounds / 4)} interleaved rounds):");
            for (var i = 0; i < modes.Length; i++)
                Console.WriteLine($"  {modes[i],-16} {result.MedianRates[i],8:F1} images/s");
            Console.WriteLine($"  ratio exact/fast {result.Ratio(0, 1),8:F3}");
        }
        foreach (var featurizer in featurizers) featurizer.Dispose();
        return 0;
    }

    private static IDataView Paths(MLContext ml, string[] paths) => ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));

    private static List<float[]> Featurize(MLContext ml, EfficientNetFeaturizerTransformer featurizer, string[] paths) =>
        ml.Data.CreateEnumerable<FeatureRow>(featurizer.Transform(Paths(ml, paths)), reuseRowObject: false).Select(r => r.Features).ToList();

    private static double Cosine(float[] a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class FeatureRow
    {
        [VectorType(1280)] public float[] Features { get; set; } = [];
    }
}
