using EffNet.MLNet.Imaging;
using Microsoft.ML;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The featurizer runs one session from several threads at once (no lock): these hold every
/// concurrent result to the one the same input gives run by run.
/// </summary>
public class FeatureSessionConcurrencyTests
{
    private static readonly Lazy<EfficientNetBackbone> SmallB0 = new(() =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 11, Resolution = 96 }));

    [Fact]
    public void Many_concurrent_runs_on_one_session_give_the_sequential_results()
    {
        using var session = new FeatureSession(SmallB0.Value.ToBytes(), intraOpThreads: 1);
        var random = new Random(5);
        // 48 inputs of 1-3 images each, every one different, so a result handed to the wrong caller shows.
        var inputs = Enumerable.Range(0, 48).Select(i =>
        {
            var batch = 1 + i % 3;
            var pixels = new float[batch * session.ImageSize];
            for (var p = 0; p < pixels.Length; p++) pixels[p] = random.Next(256);
            return (batch, pixels);
        }).ToList();
        var sequential = inputs.Select(x => session.Run(x.pixels, x.batch)).ToList();

        var concurrent = new float[inputs.Count][];
        Parallel.For(0, inputs.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            var i = k % inputs.Count;
            var result = session.Run(inputs[i].pixels, inputs[i].batch);
            if (k >= inputs.Count * 3) concurrent[i] = result;
            else Assert.Equal(sequential[i], result);
        });

        for (var i = 0; i < inputs.Count; i++) Assert.Equal(sequential[i], concurrent[i]);
        Assert.NotEqual(sequential[0], sequential[3]);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(4, 0)]
    public void The_fast_path_returns_each_rows_own_features_in_input_order(int batchSize, int threads)
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows().Where((_, i) => i % 4 == 0).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var transformer = ml.Transforms.ExtractEfficientNetFeatures(SmallB0.Value,
            options: new EfficientNetFeaturizerOptions { BatchSize = batchSize, Threads = threads }).Fit(data);
        var features = ml.Data.CreateEnumerable<FeatureRow>(transformer.Transform(data), reuseRowObject: false).ToList();

        // The same images, decoded and run one at a time.
        using var session = new FeatureSession(SmallB0.Value.ToBytes(), intraOpThreads: 1);
        var pixels = new float[session.ImageSize];
        Assert.Equal(rows.Count, features.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i].ImagePath, features[i].ImagePath);
            FastImageDecoder.Decode(rows[i].ImagePath, session.InputHeight, pixels);
            var expected = session.Run(pixels, 1);
            var worst = expected.Zip(features[i].Features, (a, b) => Math.Abs(a - b) / (1e-3 + Math.Abs(a))).Max();
            Assert.True(worst < 1e-3, $"row {i} ({rows[i].ImagePath}): relative difference {worst}");
        }
    }

    public sealed class FeatureRow
    {
        public string ImagePath { get; set; } = "";

        [Microsoft.ML.Data.VectorType] public float[] Features { get; set; } = [];
    }
}
