using Microsoft.ML;

namespace EffNet.MLNet.Tests;

public class ConcurrencyTests
{
    [Fact]
    public void One_fitted_featurizer_used_from_eight_threads_gives_the_serial_results()
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows().Where((_, i) => i % 6 == 0).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var transformer = ml.Transforms.ExtractEfficientNetFeatures(
            EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 3 }),
            options: new EfficientNetFeaturizerOptions { BatchSize = 4 }).Fit(data);
        float[][] Features() => ml.Data.CreateEnumerable<FeaturizerTests.FeaturesOnly>(transformer.Transform(data), false).Select(r => r.Features).ToArray();

        var serial = Features();
        var parallel = new float[8][][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t => parallel[t] = Features());
        Assert.All(parallel, run => Assert.Equal(serial, run));
    }
}
