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
/// finetune-speed: training images/s of B0 (128 px, batch 16, two threads, no augmentation, AdamW) for all and top:2
/// with batch-norm frozen and all with batch-norm training, C# and PyTorch alternating over several rounds (medians reported), each configuration in a
/// process of its own so that its peak resident memory is its own.
/// </summary>
internal static class FineTuneSpeedBenchmark
{
    private const int Resolution = 128, Batch = 16, Threads = 2;

    /// <summary>Steps run before the clock starts, on both sides: each engine's second step still plans memory
    /// (ONNX Runtime's took 1.5 s against 0.4 s for later ones), and a user's epoch is hundreds of steps.</summary>
    internal const int WarmUpSteps = 3;

    public static int Run(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        int Option(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            if (i < 0) return fallback;
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, inv, out var value) || value < 1)
                throw new ArgumentException($"{name} takes a whole number of at least 1.");
            return value;
        }
        var steps = Option("--steps", 12);
        var rounds = Option("--rounds", 3);
        Console.WriteLine(string.Create(inv, $"B0 {Resolution} px, batch {Batch}, {Threads} threads, batch-norm frozen (all+bn: training), no augmentation, AdamW; {steps} timed steps after {WarmUpSteps} warm-up; " +
            $"{rounds} rounds, C# and PyTorch alternating (who goes first swaps each round); rates: medians; ratio: median of the rounds' ratios; " +
            $"peak memory: the largest of the rounds; {Environment.ProcessorCount} cores, load before {FineTuneLearningBenchmark.Load()}"));
        var results = new Dictionary<string, List<(JsonElement CSharp, JsonElement Torch)>>();
        // "all+bn": every layer with batch-norm training (batch statistics, running statistics updated), the random start's mode.
        var configurations = new[] { "all", "top:2", "all+bn" };
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var unfreeze in configurations)
            {
                // Side by side in time: on a shared machine the available speed drifts by tens of percent within minutes,
                // so each round's pair is compared, and the order swaps so that a drift within a pair favours neither side.
                var (layers, trainBatchNorm) = Split(unfreeze);
                JsonElement Torch() => FineTuneLearningBenchmark.RunTorch(["speed", layers, Resolution.ToString(inv), Batch.ToString(inv), Threads.ToString(inv), steps.ToString(inv), trainBatchNorm ? "1" : "0"]);
                JsonElement cs, torch;
                if (round % 2 == 1) { cs = RunSelf(unfreeze, steps); torch = Torch(); }
                else { torch = Torch(); cs = RunSelf(unfreeze, steps); }
                (results.TryGetValue(unfreeze, out var list) ? list : results[unfreeze] = []).Add((cs, torch));
                Console.WriteLine(string.Create(inv, $"round {round} {unfreeze}: C# {Rate(cs):0.0} (optimizer {cs.GetProperty("optimizerShare").GetDouble():P0} of it), PyTorch {Rate(torch):0.0} images/s ({Rate(cs) / Rate(torch):0.00}×)"));
            }
        }
        Console.WriteLine($"| unfreeze | C# images/s | PyTorch {FineTuneLearningBenchmark.TorchVersion()} images/s | C# / PyTorch | C# peak RSS | stated before the run | PyTorch peak RSS |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var unfreeze in configurations)
        {
            var r = results[unfreeze];
            double a = Median(r.Select(x => Rate(x.CSharp))), b = Median(r.Select(x => Rate(x.Torch))), ratio = Median(r.Select(x => Rate(x.CSharp) / Rate(x.Torch)));
            var (layers, trainBatchNorm) = Split(unfreeze);
            // What `effnet train --fine-tune` says it needs before such a run.
            var stated = FineTuner.EstimateMemoryBytes(EfficientNetVariant.B0,
                new FineTuneOptions { Unfreeze = Unfreeze.TryParse(layers)!, Resolution = Resolution, BatchSize = Batch, TrainBatchNorm = trainBatchNorm });
            Console.WriteLine(string.Create(inv, $"| {unfreeze} | {a:0.0} | {b:0.0} | {ratio:0.00}× | {r.Max(x => Peak(x.CSharp)) / 1048576.0:0} MiB | {stated / 1048576.0:0} MiB | {r.Max(x => Peak(x.Torch)) / 1048576.0:0} MiB |"));
        }
        Console.WriteLine($"load after {FineTuneLearningBenchmark.Load()}");
        return 0;
    }

    private static double Rate(JsonElement e) => e.GetProperty("imagesPerSecond").GetDouble();

    private static long Peak(JsonElement e) => e.GetProperty("peakBytes").GetInt64();

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static (string Layers, bool TrainBatchNorm) Split(string configuration) =>
        configuration.EndsWith("+bn", StringComparison.Ordinal) ? (configuration[..^3], true) : (configuration, false);

    /// <summary>One configuration, in this process (called as <c>finetune-speed-one UNFREEZE[+bn] STEPS</c>): prints a JSON line.</summary>
    public static int RunOne(string[] args)
    {
        var (unfreeze, trainBatchNorm) = Split(args[0]);
        var steps = int.Parse(args[1], CultureInfo.InvariantCulture);
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var p = NetworkParameters.FromFolded(architecture, RandomWeights.Create(architecture, 1), 10, 1);
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.TryParse(unfreeze)!, Resolution,
            new TrainingGraphOptions { LabelSmoothing = 0.1, TrainBatchNorm = trainBatchNorm });
        using var session = new TrainingSession(graph, p, Threads);
        var optimizer = new AdamW(0.9, 0.999, 1e-8, 0.05);
        var random = new Random(1);
        var pixels = Enumerable.Range(0, Batch * 3 * Resolution * Resolution).Select(_ => (float)(random.NextDouble() * 255)).ToArray();
        var labels = Enumerable.Range(0, Batch).Select(i => (long)(i % 10)).ToArray();
        var logits = new float[Batch * 10];
        for (var s = 0; s < WarmUpSteps; s++)
        {
            session.Run(pixels, labels, Batch, logits);
            optimizer.Step(p, session.Gradients, graph.Trainable, 1e-5);
            BatchNormStatistics.Update(p, graph, session, Batch);
        }
        var watch = Stopwatch.StartNew();
        var inOptimizer = TimeSpan.Zero;
        for (var s = 0; s < steps; s++)
        {
            session.Run(pixels, labels, Batch, logits);
            var before = watch.Elapsed;
            optimizer.Step(p, session.Gradients, graph.Trainable, 1e-5);
            BatchNormStatistics.Update(p, graph, session, Batch);   // nothing to do with batch-norm frozen
            inOptimizer += watch.Elapsed - before;
        }
        var rate = steps * Batch / watch.Elapsed.TotalSeconds;
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(JsonSerializer.Serialize(new { imagesPerSecond = rate, peakBytes = self.PeakWorkingSet64, optimizerShare = inOptimizer / watch.Elapsed }));
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
