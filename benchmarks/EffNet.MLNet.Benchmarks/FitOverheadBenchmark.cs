using System.Diagnostics;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// What a pipeline's Fit costs beyond featurizing. "Alone" fits the featurizer and reads every
/// feature once; "pipeline" fits featurizer → NormalizeMeanVariance as one EstimatorChain, whose
/// Fit propagates the schema first (GetOutputSchema) and whose normaliser reads every feature
/// once. Both open the same session and featurize the same images; the ratio is the overhead
/// (target ≤ 1.05). Interleaved rounds, paired ratios (<see cref="SideBySide"/>).
/// </summary>
internal static class FitOverheadBenchmark
{
    public static int Run(BenchmarkArgs args)
    {
        var paths = SyntheticPhotos.Make(400, 300, 128);
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new LabeledImage(p, "")));
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = args.Variant, RandomInit = true, Seed = 0 });
        var estimator = ml.Transforms.ExtractEfficientNetFeatures(backbone);

        var schemaWatch = Stopwatch.StartNew();
        var shape = ml.Transforms.ExtractEfficientNetFeatures(backbone).Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .GetOutputSchema(ShapeOf(data));
        Console.WriteLine($"pipeline GetOutputSchema: {schemaWatch.Elapsed.TotalMilliseconds:0.0} ms ({shape.Count()} columns)");
        // What schema propagation cost before: the stock chain's own, which builds ApplyOnnxModel (a session).
        var chainWatch = Stopwatch.StartNew();
        new StockFeaturizerChain(ml.Transforms, backbone, "Features", "ImagePath", TextDataViewType.Instance, new EfficientNetFeaturizerOptions())
            .Full.GetOutputSchema(ShapeOf(data));
        Console.WriteLine($"the stock chain's GetOutputSchema (the old way): {chainWatch.Elapsed.TotalMilliseconds:0.0} ms");

        var rounds = Math.Max(3, Math.Min(args.Rounds, 7));
        var result = SideBySide.Measure(rounds, paths.Count, 1,
            () =>
            {
                using var featurizer = estimator.Fit(data);
                ReadAll(featurizer.Transform(data));
            },
            () =>
            {
                using var model = estimator.Append(ml.Transforms.NormalizeMeanVariance("Features")).Fit(data);
            });
        var (alone, pipeline) = (result.MedianRates[0], result.MedianRates[1]);
        Console.WriteLine($"{args.Variant}, {paths.Count} images of 400x300, {rounds} rounds, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine($"featurizer Fit + one pass alone: {paths.Count / alone:0.000} s ({alone:0.0} images/s)");
        Console.WriteLine($"pipeline.Fit (featurizer + NormalizeMeanVariance): {paths.Count / pipeline:0.000} s ({pipeline:0.0} images/s)");
        Console.WriteLine($"pipeline / alone time (median of paired rounds): {result.Ratio(0, 1):0.000} (target <= 1.05)");
        return 0;
    }

    private static void ReadAll(IDataView view)
    {
        var column = view.Schema["Features"];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var value = default(VBuffer<float>);
        while (cursor.MoveNext()) getter(ref value);
    }

    // SchemaShape.Create is internal to ML.NET; EstimatorChain.Fit calls it the same way.
    private static SchemaShape ShapeOf(IDataView data) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!
            .Invoke(null, [data.Schema])!;
}
