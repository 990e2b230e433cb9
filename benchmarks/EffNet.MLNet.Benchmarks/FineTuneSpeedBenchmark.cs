using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;
using EffNet.MLNet.FineTuning.Optimization;
using EffNet.MLNet.Onnx;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// finetune-speed: training images/s of B0 (128 px, batch 16, two threads, batch-norm frozen, no augmentation, AdamW)
/// for all and top:2, C# and PyTorch back to back, each configuration in a process of its own so that its peak
/// resident memory is its own.
/// </summary>
internal static class FineTuneSpeedBenchmark
{
    private const int Resolution = 128, Batch = 16, Threads = 2;

    public static int Run(string[] args)
    {
        var steps = args.Length >= 2 && args[0] == "--steps" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 6;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"B0 {Resolution} px, batch {Batch}, {Threads} threads, batch-norm frozen, no augmentation, AdamW; {steps} timed steps after one warm-up; " +
            $"{Environment.ProcessorCount} cores, load before {FineTuneLearningBenchmark.Load()}"));
        Console.WriteLine($"| unfreeze | C# images/s | PyTorch {FineTuneLearningBenchmark.TorchVersion()} images/s | C# / PyTorch | C# peak RSS | PyTorch peak RSS |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var unfreeze in new[] { "all", "top:2" })
        {
            var cs = RunSelf(unfreeze, steps);
            var torch = FineTuneLearningBenchmark.RunTorch(["speed", unfreeze, Resolution.ToString(inv), Batch.ToString(inv), Threads.ToString(inv), steps.ToString(inv)]);
            double a = cs.GetProperty("imagesPerSecond").GetDouble(), b = torch.GetProperty("imagesPerSecond").GetDouble();
            Console.WriteLine(string.Create(inv, $"| {unfreeze} | {a:0.0} | {b:0.0} | {a / b:0.00}× | {cs.GetProperty("peakBytes").GetInt64() / 1048576.0:0} MiB | {torch.GetProperty("peakBytes").GetInt64() / 1048576.0:0} MiB |"));
        }
        Console.WriteLine($"load after {FineTuneLearningBenchmark.Load()}");
        return 0;
    }

    /// <summary>One configuration, in this process (called as <c>finetune-speed-one UNFREEZE STEPS</c>): prints a JSON line.</summary>
    public static int RunOne(string[] args)
    {
        var unfreeze = args[0];
        var steps = int.Parse(args[1], CultureInfo.InvariantCulture);
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var p = NetworkParameters.FromFolded(architecture, RandomWeights.Create(architecture, 1), 10, 1);
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.TryParse(unfreeze)!, Resolution, 0.1);
        using var session = new TrainingSession(graph, p, Threads);
        var optimizer = new AdamW(0.9, 0.999, 1e-8, 0.05);
        var random = new Random(1);
        var pixels = Enumerable.Range(0, Batch * 3 * Resolution * Resolution).Select(_ => (float)(random.NextDouble() * 255)).ToArray();
        var labels = Enumerable.Range(0, Batch).Select(i => (long)(i % 10)).ToArray();
        var logits = new float[Batch * 10];
        session.Run(pixels, labels, Batch, logits);   // warm-up
        optimizer.Step(p, session.Gradients, graph.Trainable, 1e-5);
        var watch = Stopwatch.StartNew();
        for (var s = 0; s < steps; s++)
        {
            session.Run(pixels, labels, Batch, logits);
            optimizer.Step(p, session.Gradients, graph.Trainable, 1e-5);
        }
        var rate = steps * Batch / watch.Elapsed.TotalSeconds;
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(JsonSerializer.Serialize(new { imagesPerSecond = rate, peakBytes = self.PeakWorkingSet64 }));
        return 0;
    }

    private static JsonElement RunSelf(string unfreeze, int steps)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        var entry = Environment.GetCommandLineArgs()[0];
        if (entry.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) psi.ArgumentList.Add(entry);   // run as `dotnet X.dll`
        foreach (var a in new[] { "finetune-speed-one", unfreeze, steps.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"finetune-speed-one {unfreeze} failed ({process.ExitCode})");
        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.Clone();
    }
}
