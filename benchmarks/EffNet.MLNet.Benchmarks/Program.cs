using EffNet.MLNet.Benchmarks;

// Benchmarks print ratios measured side by side in one run; see docs/BENCHMARKS.md.
var command = args.Length > 0 ? args[0] : "graph";
var options = BenchmarkArgs.Parse(args.Skip(1).ToArray());
return command switch
{
    "graph" => GraphBenchmark.Run(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: EffNet.MLNet.Benchmarks graph [--variant b0] [--batch 8] [--rounds 10]");
    return 2;
}
