using EffNet.MLNet.Benchmarks;

// Benchmarks print ratios measured side by side in one run; see docs/BENCHMARKS.md.
var command = args.Length > 0 ? args[0] : "graph";
// Fine-tuning against PyTorch (docs/BENCHMARKS.md, "Fine-tuning"); their own options.
if (command == "finetune-learning") return FineTuneLearningBenchmark.Run(args[1..]);
if (command == "finetune-speed") return FineTuneSpeedBenchmark.Run(args[1..]);
if (command == "finetune-speed-one") return FineTuneSpeedBenchmark.RunOne(args[1..]);
BenchmarkArgs options;
try
{
    options = BenchmarkArgs.Parse(args.Skip(1).ToArray());
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"{command}: {e.Message}");
    return 3;
}
return command switch
{
    "graph" => GraphBenchmark.Run(options),
    "featurize" => FeaturizationBenchmark.Run(options),
    "strategy" => StrategyBenchmark.Run(options),
    "ort" => OrtAloneGrid.Run(options),
    "memory" => FeaturizationBenchmark.Memory(5000),
    "cache" => FeaturizationBenchmark.Cache(),
    "serving" => ServingBenchmark.Run(),
    "serving-load" => ServingLoadBenchmark.Run(options.Seconds ?? 60),
    "preprocess-fidelity" => PreprocessFidelityBenchmark.Run(options),
    "int8" => Int8Benchmark.Run(options),
    "family" => FamilyBenchmark.Run(options),
    "fit-overhead" => FitOverheadBenchmark.Run(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: EffNet.MLNet.Benchmarks graph|featurize|strategy|ort|memory|cache|serving|serving-load|preprocess-fidelity|int8|family|fit-overhead [--variant b0] [--batch 8] [--rounds 20] [--sets small,2mp,camera] [--images 512] [--camera-dir DIR] [--camera-images N] [--allow-small] [--precision fp32|int8] [--seconds 60]");
    return 2;
}
