using System.Globalization;
using EffNet.MLNet.Imaging;
using Google.Protobuf;
using EffNet.MLNet.Onnx.Quantization;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// B0, Lite0 and V2-S side by side, fp32 and int8, each at its own evaluation resolution: pure ONNX
/// Runtime, one session per graph, two concurrent batch-1 runs of one intra-op thread each (the int8
/// benchmark's sessions and runs), interleaved rounds. Seeded random weights (no pretrained weights can
/// be downloaded here): speed does not depend on the weights' values; int8 is calibrated on the
/// scikit-image photos it then runs on. The ImageNet accuracies printed are the weights' publishers'.
/// </summary>
internal static class FamilyBenchmark
{
    private const string SkimageData = "/usr/lib/python3/dist-packages/skimage/data";
    private static readonly string[] PhotoNames = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg"];
    private static readonly (string Variant, string Top1)[] Variants = [("b0", "77.692 (torchvision)"), ("lite0", "75.5 (timm)"), ("v2-s", "84.228 (torchvision)")];

    public static int Run(BenchmarkArgs args)
    {
        var photos = PhotoNames.Select(n => Path.Combine(SkimageData, n)).Where(File.Exists).ToList();
        if (photos.Count == 0) { Console.Error.WriteLine($"No photos under {SkimageData}; install python3-skimage."); return 1; }
        var rounds = args.RoundsOr(3);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"Pure ONNX Runtime, seeded random weights, {rounds} interleaved rounds; two concurrent batch-1 runs x 1 intra-op thread, ORT_ENABLE_ALL.");
        Console.WriteLine($"{"variant",-8} {"crop",6} {"fp32 img/s",11} {"int8 img/s",11} {"int8/fp32",10} {"cos median",11}  ImageNet top-1 (publisher)");
        foreach (var (variant, top1) in Variants)
        {
            var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = variant, RandomInit = true, Seed = 0 });
            var size = backbone.ResizeSize; // the graph's input; it crops backbone.Resolution inside
            var pixels = photos.Select(p => { var x = new float[3 * size * size]; FastImageDecoder.Decode(p, size, x); return x; }).ToList();
            var fp32 = backbone.Graph;
            var int8 = Int8Quantizer.Quantize(fp32, pixels);
            using var f = Int8Benchmark.Open(fp32.ToByteArray(), profile: false);
            using var q = Int8Benchmark.Open(int8.ToByteArray(), profile: false);
            var cosines = pixels.Select(p => Int8Benchmark.Cosine(Int8Benchmark.Features(f, p, size), Int8Benchmark.Features(q, p, size))).Order().ToList();
            var result = SideBySide.Measure(rounds, 2 * pixels.Count, 1, () => Int8Benchmark.TwoConcurrentRuns(f, pixels, size), () => Int8Benchmark.TwoConcurrentRuns(q, pixels, size));
            Console.WriteLine(string.Create(inv,
                $"{variant,-8} {backbone.Resolution,6} {result.MedianRates[0],11:F1} {result.MedianRates[1],11:F1} {result.Ratio(1, 0),10:F2} {cosines[cosines.Count / 2],11:F4}  {top1}"));
        }
        Console.WriteLine($"cosine: int8 against fp32 features on the {photos.Count} photos it was calibrated on (random weights: a speed run, not a fidelity figure).");
        return 0;
    }
}
