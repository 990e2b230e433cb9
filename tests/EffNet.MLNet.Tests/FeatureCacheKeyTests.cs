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
            ("ONNX Runtime", running with { OnnxRuntime = running.OnnxRuntime + "+1" }),
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

    // Mutation: FeatureVersions.Describe leaves out ";ort=…;provider=…" -> fails.
    [Fact]
    public void The_key_names_the_onnx_runtime_version_and_the_execution_provider()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(SampleData.Rows().Take(1));
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value).Fit(data);
        var ort = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
        Assert.Matches(@"^\d+\.\d+\.\d+", ort);
        Assert.EndsWith($";ort={ort};provider=cpu", featurizer.FeatureIdentity);

        var running = FeatureVersions.Running;
        var identity = featurizer.FeatureIdentity;
        using (FeatureVersions.Use(running with { OnnxRuntime = "1.0.0" }))
            Assert.NotEqual(identity, featurizer.FeatureIdentity);
        // A CUDA featurizer cannot be made without a GPU here; the suffix it would be keyed by differs.
        Assert.NotEqual(running.Describe(true, false, ExecutionProvider.Cpu), running.Describe(true, false, ExecutionProvider.Cuda));
    }

    // The seam replaces the file just as the decoder reads it: the old code hashed first and decoded later,
    // caching the new picture's features under the old picture's hash.
    // Mutation: ImageClassifierTrainer.Featurize caches under the hash looked up before decoding (hashes[row]) -> fails.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_file_replaced_while_it_is_featurized_is_cached_under_the_bytes_that_were_decoded(bool fastDecode)
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows();
        var (before, after) = (rows[0].ImagePath, rows[^1].ImagePath);
        using var dir = new TempDir();
        var path = dir.File("photo" + Path.GetExtension(before));
        File.Copy(before, path);
        var (hashBefore, hashAfter) = (FeatureCache.ContentHash(before), FeatureCache.ContentHash(after));
        Assert.NotEqual(hashBefore, hashAfter);

        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { FastDecode = fastDecode })
            .Fit(ml.Data.LoadFromEnumerable(rows.Take(1)));
        using var cache = new FeatureCache(dir.File("cache"), featurizer.FeatureIdentity, 1280);
        var replaced = 0;
        Imaging.OpenedImage.BeforeRead.Value = p =>
        {
            if (p == path && Interlocked.Exchange(ref replaced, 1) == 0) File.Copy(after, path, overwrite: true);
        };
        FeatureTable table;
        try { table = ImageClassifierTrainer.Featurize(ml, featurizer, [new LabeledImage(path, "x")], cache).Table; }
        finally { Imaging.OpenedImage.BeforeRead.Value = null; }

        Assert.Equal(1, replaced);
        Assert.False(cache.TryGet(hashBefore, out _), "the replacement's features were cached under the original's hash");
        Assert.True(cache.TryGet(hashAfter, out var cached), "the decoded bytes' features were not cached under their hash");
        Assert.Equal(table.Features[0], cached);
        var fresh = ImageClassifierTrainer.Featurize(ml, featurizer, [new LabeledImage(after, "x")]).Features[0];
        Assert.True(cached.Zip(fresh, (a, b) => Math.Abs(a - b)).Max() < 1e-4, "the cached vector is not the replacement's features");
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
