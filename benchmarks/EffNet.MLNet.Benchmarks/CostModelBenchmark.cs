using EffNet.MLNet.Imaging;
using Microsoft.ML;
using SkiaSharp;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Where the time of one image goes, measured side by side: the decoder at full scale (what the
/// stock chain pays), the fast decoder, the decoder at ⅛ scale (close to the floor: the entropy
/// decoding every scale must do), and B0 on real decoded pixels. From these it prints the ceiling
/// of any decode-then-infer design on this machine, so a throughput goal can be checked against it.
/// </summary>
internal static class CostModelBenchmark
{
    public static int Run(BenchmarkArgs args)
    {
        var ml = new MLContext(0);
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = args.Variant, RandomInit = true });
        using var session = new FeatureSession(backbone.ToBytes());
        var cores = Environment.ProcessorCount;
        Console.WriteLine($"EfficientNet {args.Variant}, {cores} cores; decoding on one core, inference on all, milliseconds per image");
        foreach (var (w, h, n) in new[] { (1600, 1200, 48), (400, 300, 160) })
        {
            var paths = SyntheticPhotos.Make(w, h, n);
            var size = session.InputHeight;
            var one = new float[session.ImageSize];
            var tensors = new ReadyTensors(session, paths, args.Batch);
            var data = ml.Data.LoadFromEnumerable(paths.Select(p => new FeaturizationBenchmark.PathRow { ImagePath = p }).ToList());
            var stock = ml.Transforms.ExtractEfficientNetFeatures(backbone).Fit(data).StockEquivalent;

            var result = SideBySide.Measure(Math.Max(3, args.Rounds / 4), n, 1,
                () => { foreach (var p in paths) DecodeAtScale(p, 1f); },
                () => { foreach (var p in paths) FastImageDecoder.Decode(p, size, one); },
                () => { foreach (var p in paths) DecodeAtScale(p, 0.125f); },
                tensors.RunAll,
                () => FeaturizationBenchmark.Drain(stock.Transform(data)));
            var ms = result.MedianRates.Select(r => 1000 / r).ToList();
            var inferCoreMs = ms[3] * cores;
            var ceiling = 1000 * cores / (ms[1] + inferCoreMs);
            var floor = 1000 * cores / (ms[2] + inferCoreMs);
            Console.WriteLine($"{w}x{h} JPEGs ({paths.Sum(p => new FileInfo(p).Length) / n / 1024} KB each), {n} images:");
            Console.WriteLine($"  full-scale decode                {ms[0],6:F2} ms   (the stock chain decodes every pixel)");
            Console.WriteLine($"  fast decoder (scaled + resize)   {ms[1],6:F2} ms");
            Console.WriteLine($"  decode at 1/8 scale              {ms[2],6:F2} ms   (near the entropy-decoding floor)");
            Console.WriteLine($"  B0 inference, {cores} threads          {ms[3],6:F2} ms   = {inferCoreMs:F1} core-ms");
            Console.WriteLine($"  stock ML.NET chain end to end    {ms[4],6:F2} ms   ({result.MedianRates[4]:F1} images/s)");
            Console.WriteLine($"  ceiling with both cores busy: {ceiling:F0} images/s = {ceiling / result.MedianRates[4]:F2}x the stock chain " +
                              $"(with a decoder at the 1/8 floor: {floor:F0} images/s = {floor / result.MedianRates[4]:F2}x)");
        }
        return 0;
    }

    private static void DecodeAtScale(string path, float scale)
    {
        using var codec = SKCodec.Create(path);
        var dims = codec.GetScaledDimensions(scale);
        var info = new SKImageInfo(dims.Width, dims.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        var status = codec.GetPixels(info, bitmap.GetPixels());
        if (status != SKCodecResult.Success) throw new InvalidOperationException($"{path}: {status}");
    }
}
