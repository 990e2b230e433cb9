using EffNet.MLNet.Training;
using Microsoft.ML;

namespace EffNet.MLNet.Tests;

/// <summary>What the feature cache is keyed by, and how featurization fills it.</summary>
public class FeatureCacheKeyTests
{
    private static readonly Lazy<EfficientNetBackbone> RandomB0 = new(() =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 7 }));

    [Fact]
    public void Every_version_that_changes_features_makes_a_cache_miss()
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows().Take(2).ToList();
        var images = rows.Select(r => new LabeledImage(r.ImagePath, r.Label)).ToList();
        using var dir = new TempDir();

        int Hits(FeatureVersions versions)
        {
            using var _ = FeatureVersions.Use(versions);
            var featurizer = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value).Fit(ml.Data.LoadFromEnumerable(rows));
            using var cache = new FeatureCache(dir.Path, featurizer.FeatureIdentity, 1280);
            return ImageClassifierTrainer.Featurize(ml, featurizer, images, cache).CacheHits;
        }

        var running = FeatureVersions.Running;
        Assert.Equal(0, Hits(running));
        Assert.Equal(2, Hits(running));
        var changes = new (string What, FeatureVersions Versions)[]
        {
            ("graph builder", running with { GraphBuilder = running.GraphBuilder + "+1" }),
            ("batch-norm folding", running with { BatchNormFolding = running.BatchNormFolding + "+1" }),
            ("random weights", running with { RandomWeights = running.RandomWeights + "+1" }),
            ("decoder", running with { Decoder = running.Decoder + "+1" }),
            ("native imaging library", running with { NativeImaging = running.NativeImaging + "+1" }),
        };
        foreach (var (what, versions) in changes)
            Assert.True(Hits(versions) == 0, $"a new {what} version still hit the cache");
        Assert.Equal(2, Hits(running));
    }

    [Fact]
    public void The_key_names_the_native_imaging_library_and_leaves_out_what_a_featurizer_does_not_use()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(SampleData.Rows().Take(1));
        var stock = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { FastDecode = false }).Fit(data);
        Assert.Contains(";imaging=skia-" + SkiaSharp.SkiaSharpVersion.Native, stock.FeatureIdentity);
        Assert.Contains(";decode=mlnet", stock.FeatureIdentity);

        var running = FeatureVersions.Running;
        string IdentityWith(FeatureVersions versions)
        {
            using var _ = FeatureVersions.Use(versions);
            return stock.FeatureIdentity;
        }
        // ML.NET's own transforms decode here, so the fast decoder's version does not matter; Skia's does.
        Assert.Equal(stock.FeatureIdentity, IdentityWith(running with { Decoder = "other" }));
        Assert.NotEqual(stock.FeatureIdentity, IdentityWith(running with { NativeImaging = "other" }));
    }

    [Fact]
    public void A_cancelled_featurization_keeps_what_it_computed_and_the_next_run_serves_it_exactly()
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows();
        var images = rows.Select(r => new LabeledImage(r.ImagePath, r.Label)).ToList();
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { BatchSize = 8 })
            .Fit(ml.Data.LoadFromEnumerable(rows));
        using var dir = new TempDir();
        using var cache = new FeatureCache(dir.Path, featurizer.FeatureIdentity, 1280);

        using var stop = new CancellationTokenSource();
        var progress = new Callback(done => { if (done == 40) stop.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => ImageClassifierTrainer.Featurize(ml, featurizer, images, cache, progress, stop.Token));
        Assert.Equal(40, cache.Count);

        var (table, hits) = ImageClassifierTrainer.Featurize(ml, featurizer, images, cache);
        Assert.Equal(40, hits);
        Assert.Equal(images.Count, cache.Count);
        var reference = ImageClassifierTrainer.Featurize(ml, featurizer, images);
        for (var i = 0; i < images.Count; i++)
        {
            var error = table.Features[i].Zip(reference.Features[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(error < 1e-4, $"{images[i].ImagePath}: cached and fresh features differ by {error}");
        }
    }

    private sealed class Callback(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
