using System.Diagnostics;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Our generated graph against torchvision's own <c>torch.onnx.export</c> of the same weights,
/// both run by ONNX Runtime with identical session options, in one process.
/// </summary>
internal static class GraphBenchmark
{
    public static int Run(BenchmarkArgs args)
    {
        var work = Path.Combine(Path.GetTempPath(), "effnet-bench-graph");
        Directory.CreateDirectory(work);
        var script = Path.Combine(RepoRoot.Find(), "tests", "fixtures", "make_torchvision_fixtures.py");
        Console.WriteLine($"Exporting torchvision efficientnet_{args.Variant} (seeded weights) with torch.onnx.export …");
        var python = Process.Start("/usr/bin/python3", [script, "onnx", work, args.Variant])!;
        python.WaitForExit();
        if (python.ExitCode != 0) { Console.Error.WriteLine("The torchvision export failed; install python3-torchvision."); return 1; }

        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.Parse(args.Variant));
        var weights = CheckpointLoader.Load(architecture, Path.Combine(work, args.Variant + ".pth"));
        var ours = EfficientNetOnnxExporter.ToBytes(architecture, weights);
        var theirs = File.ReadAllBytes(Path.Combine(work, args.Variant + ".torchvision.onnx"));

        var threads = Environment.ProcessorCount;
        using var a = new FeatureSession(ours, threads);
        using var b = new FeatureSession(theirs, threads);
        var pixels = new float[args.Batch * a.ImageSize];
        var random = new Random(1);
        for (var i = 0; i < pixels.Length; i++) pixels[i] = random.Next(256);
        var outA = new float[args.Batch * a.FeatureDimension];
        var outB = new float[args.Batch * b.FeatureDimension];

        for (var i = 0; i < 3; i++) { a.Run(pixels, args.Batch, outA); b.Run(pixels, args.Batch, outB); }
        var scale = outB.Max(Math.Abs);
        var error = outA.Zip(outB).Max(p => Math.Abs(p.First - p.Second)) / scale;

        // About 64 images a contender per round, so one round is long enough to time well.
        var result = SideBySide.Measure(args.Rounds, args.Batch, Math.Max(2, 64 / args.Batch),
            () => a.Run(pixels, args.Batch, outA),
            () => b.Run(pixels, args.Batch, outB));
        var rates = result.MedianRates;

        Console.WriteLine($"EfficientNet {args.Variant}, batch {args.Batch}, {args.Rounds} interleaved rounds, {threads} threads, ONNX Runtime CPU, ORT_ENABLE_ALL");
        Console.WriteLine($"  outputs agree: max relative error {error:E2}");
        Console.WriteLine($"  EffNet.MLNet graph       {rates[0],8:F1} images/s");
        Console.WriteLine($"  torchvision ONNX export  {rates[1],8:F1} images/s");
        Console.WriteLine($"  ratio ours/torchvision   {result.MedianRatiosToLast[0],8:F3}   (median of per-round ratios)");
        return 0;
    }
}
