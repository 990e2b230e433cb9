using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using EffNet.MLNet.Catalog;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Tests;

/// <summary>The featurizer runs under the caller's MLContext: its log, its seed, its cancellation.</summary>
public class MLContextConventionTests
{
    private static readonly Lazy<EfficientNetBackbone> RandomB0 = new(() =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 7 }));

    private static ConcurrentQueue<string> Messages(MLContext ml)
    {
        var messages = new ConcurrentQueue<string>();
        ml.Log += (_, e) =>
        {
            // e.Message is "[Source=…, Kind=…] text"; channels also trace their start and end.
            if (e.Source.StartsWith(FeaturizerContext.Source, StringComparison.Ordinal) && e.Kind != Microsoft.ML.Runtime.ChannelMessageKind.Trace)
                messages.Enqueue($"{e.Kind}: {e.Message[(e.Message.IndexOf("] ", StringComparison.Ordinal) + 2)..]}");
        };
        return messages;
    }

    private static int Consume(IDataView view, string column = "Features")
    {
        var rows = 0;
        using var cursor = view.GetRowCursor(view.Schema.Where(c => c.Name == column));
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema[column]);
        var value = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref value);
            rows++;
        }
        return rows;
    }

    [Fact]
    public void The_callers_log_receives_the_backbone_progress_totals_and_each_bad_image()
    {
        var ml = new MLContext(seed: 1);
        var messages = Messages(ml);
        var rows = SampleData.Rows().Take(5).Append(new ImageRow { ImagePath = Path.Combine(RepoPaths.Root, "no-such-image.jpg"), Label = "x" }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 3, BatchSize = 4, OnBadImage = BadImageHandling.MissingFeatures };

        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(options: options).Fit(data);
        Assert.Equal(6, Consume(featurizer.Transform(data)));

        var log = messages.ToList();
        Assert.Contains(log, m => m.StartsWith("Info: Backbone efficientnet-b0;weights=random-seed-3;", StringComparison.Ordinal) && m.EndsWith("1280 features per image."));
        Assert.Contains(log, m => m.StartsWith("Info: Featurizer fitted: column 'ImagePath' to 'Features', the fast decoder, batches of 4", StringComparison.Ordinal));
        Assert.Contains(log, m => m.StartsWith("Warning: Bad image skipped (NaN features): ", StringComparison.Ordinal) && m.Contains("no-such-image.jpg"));
        Assert.Contains(log, m => m.StartsWith("Info: Featurized 6 images in ", StringComparison.Ordinal) && m.EndsWith("; 1 bad images given NaN features"));
    }

    [Fact]
    public void The_callers_log_counts_feature_cache_hits()
    {
        using var home = new TempDir();
        var ml = new MLContext(seed: 1);
        var messages = Messages(ml);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value).Fit(Training.ImageClassifierTrainer.EmptyInput(ml));
        var images = SampleData.Rows().Take(3).Select(r => new Training.LabeledImage(r.ImagePath, r.Label)).ToList();
        using (var cache = new Training.FeatureCache(home.Path, featurizer.FeatureIdentity, featurizer.Backbone.FeatureDimension))
        {
            Training.ImageClassifierTrainer.Featurize(ml, featurizer, images.Take(2).ToList(), cache);
            Training.ImageClassifierTrainer.Featurize(ml, featurizer, images, cache);
        }
        Assert.Contains("Info: Feature cache: 0 of 2 images found, 2 to featurize.", messages);
        Assert.Contains("Info: Feature cache: 2 of 3 images found, 1 to featurize.", messages);
    }

    [Fact]
    public void The_callers_log_says_whether_weights_were_downloaded_or_found_in_the_cache()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer();
        var content = new byte[3_000_000];
        new Random(5).NextBytes(content);
        var prefix = Convert.ToHexStringLower(SHA256.HashData(content))[..8];
        var entry = new PretrainedWeights("b0", $"efficientnet_b0_test-{prefix}.pth", new Uri("http://unused.invalid/x"), prefix, new EvalTransform(256, 224, "bicubic"), 0);
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true };
        var ml = new MLContext(seed: 1);
        var messages = Messages(ml);
        var context = new FeaturizerContext(CatalogEnvironment.Of(ml.Transforms)!, CancellationToken.None);

        var path = DownloadLog.EnsureWeights(catalog, entry, context);
        Assert.Equal(content, File.ReadAllBytes(path));
        var first = messages.ToList();
        Assert.Equal($"Info: Pretrained EfficientNet b0 weights: downloading {entry.FileName} from {server.BaseAddress}{entry.FileName} into {cache.Path}", first[0]);
        Assert.Contains("Info: Downloading " + entry.FileName + ": 3,000,000 of 3,000,000 bytes (100%)", first);
        Assert.Equal($"Info: Pretrained EfficientNet b0 weights verified: {path}", first[^1]);

        messages.Clear();
        DownloadLog.EnsureWeights(catalog, entry, context);
        Assert.Equal([$"Info: Pretrained EfficientNet b0 weights: {entry.FileName}, found in the cache {cache.Path}", $"Info: Pretrained EfficientNet b0 weights verified: {path}"], messages);
        Assert.Single(server.Requests);
    }

    [Fact]
    public void Random_weights_without_a_seed_take_the_contexts_seed()
    {
        static string Weights(int contextSeed, int? seed = null) =>
            new MLContext(contextSeed).Transforms.ExtractEfficientNetFeatures(options: new EfficientNetFeaturizerOptions { Variant = "phi=-2", RandomInit = true, Seed = seed })
                .Backbone.WeightsSha256;

        Assert.Equal(Weights(1), Weights(1));
        Assert.NotEqual(Weights(1), Weights(2));
        Assert.Equal("random-seed-5", Weights(1, seed: 5));
        Assert.Equal(Weights(1, seed: 5), Weights(2, seed: 5));
        // Resolve outside any context keeps the old default.
        Assert.Equal("random-seed-0", EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = "phi=-2", RandomInit = true }).WeightsSha256);
    }

    [Fact]
    public void The_catalog_environment_is_found_on_this_MLNET()
    {
        // The featurizer falls back to a private context if ML.NET moves this; the test says so first.
        var ml = new MLContext(seed: 1);
        Assert.NotNull(CatalogEnvironment.Of(ml.Transforms));
        Assert.NotNull(SchemaShapes.KnownSizeVector("F", NumberDataViewType.Single));
    }

    [Fact]
    public void A_cancelled_token_stops_featurization_at_the_next_row()
    {
        var ml = new MLContext(seed: 1);
        using var cancel = new CancellationTokenSource();
        var data = ml.Data.LoadFromEnumerable(SampleData.Rows().Take(12));
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { BatchSize = 2, CancellationToken = cancel.Token }).Fit(data);
        var view = featurizer.Transform(data);
        using var cursor = view.GetRowCursor(view.Schema);
        Assert.True(cursor.MoveNext());
        Assert.True(cursor.MoveNext());
        cancel.Cancel();
        Assert.Throws<OperationCanceledException>(() => cursor.MoveNext());
    }

    [Fact]
    public void CancelExecution_on_the_context_stops_featurization()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(SampleData.Rows().Take(12));
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { BatchSize = 2 }).Fit(data);
        var view = featurizer.Transform(data);
        using var cursor = view.GetRowCursor(view.Schema);
        Assert.True(cursor.MoveNext());
        // Public through Microsoft.ML.Experimental's extension; internal in Microsoft.ML itself.
        typeof(MLContext).GetMethod("CancelExecution", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)!.Invoke(ml, null);
        var ex = Assert.Throws<OperationCanceledException>(() => cursor.MoveNext());
        Assert.Contains("CancelExecution", ex.Message);
    }

    [Fact]
    public void A_cancelled_token_stops_a_download_and_keeps_the_bytes_for_the_next_run()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer { Throttle = TimeSpan.FromMilliseconds(20) };
        var content = new byte[4_000_000];
        new Random(6).NextBytes(content);
        var prefix = Convert.ToHexStringLower(SHA256.HashData(content))[..8];
        var entry = new PretrainedWeights("b0", $"efficientnet_b0_test-{prefix}.pth", new Uri("http://unused.invalid/x"), prefix, new EvalTransform(256, 224, "bicubic"), 0);
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true };
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress(p => { if (p.Bytes >= 200_000) cancel.Cancel(); });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => new WeightsDownloader(catalog).Ensure(entry, progress, cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        var partial = Path.Combine(cache.Path, entry.FileName + ".partial");
        var kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 200_000, content.Length - 1);
        Assert.False(File.Exists(Path.Combine(cache.Path, entry.FileName)));

        server.Throttle = TimeSpan.Zero;
        Assert.Equal(content, File.ReadAllBytes(new WeightsDownloader(catalog).Ensure(entry)));
        Assert.Equal($"bytes={kept}-", server.Requests[^1].Range);
    }

    private sealed class SynchronousProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
