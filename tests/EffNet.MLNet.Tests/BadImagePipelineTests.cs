using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;
using Microsoft.ML;

namespace EffNet.MLNet.Tests;

/// <summary>The featurizer's Transform and the training featurization on damaged, truncated and fake images found only while decoding.</summary>
public class BadImagePipelineTests
{
    private static readonly Lazy<EfficientNetBackbone> RandomB0 = new(() =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 7 }));

    private sealed class FeatureRow
    {
        public string ImagePath { get; set; } = "";
        public float[] Features { get; set; } = [];
    }

    /// <summary>Two good sample images around the crafted ones, so the bad rows sit in the middle of a batch.</summary>
    private static List<ImageRow> Rows(string folder, out (string Good, string DamagedWebp, string TruncatedJpeg, string Html) set)
    {
        set = CraftedImages.WriteSet(folder);
        var sample = Path.Combine(SampleData.Folder, "discs", "discs-00.jpg");
        return [.. new[] { sample, set.DamagedWebp, set.Good, set.TruncatedJpeg, set.Html, sample }.Select(p => new ImageRow { ImagePath = p })];
    }

    private static EfficientNetFeaturizerTransformer Featurizer(MLContext ml, IDataView data, EfficientNetFeaturizerOptions options) =>
        ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: options with { BatchSize = 4 }).Fit(data);

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // ML.NET's own image loading: it fails on the damaged WebP without naming it, and fills the cut JPEG silently
    public void By_default_the_cursor_throws_BadImageException_naming_the_first_bad_image(bool fastDecode)
    {
        using var dir = new TempDir();
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Rows(dir.Path, out var set));
        var output = Featurizer(ml, data, new EfficientNetFeaturizerOptions { FastDecode = fastDecode }).Transform(data);
        var ex = Assert.Throws<BadImageException>(() => ml.Data.CreateEnumerable<FeatureRow>(output, reuseRowObject: false).ToList());
        Assert.Equal(set.DamagedWebp, ex.InputName);
        Assert.StartsWith("is damaged", ex.Reason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MissingFeatures_gives_bad_rows_NaN_reports_each_and_leaves_good_rows_as_they_were(bool fastDecode)
    {
        using var dir = new TempDir();
        var ml = new MLContext(1);
        var rows = Rows(dir.Path, out var set);
        var data = ml.Data.LoadFromEnumerable(rows);
        var issues = new List<ImageIssue>();
        var options = new EfficientNetFeaturizerOptions { FastDecode = fastDecode, OnBadImage = BadImageHandling.MissingFeatures, OnImageIssue = issues.Add };
        var output = Featurizer(ml, data, options).Transform(data);
        var features = ml.Data.CreateEnumerable<FeatureRow>(output, reuseRowObject: false).ToList();

        Assert.Equal(rows.Count, features.Count);
        Assert.Equal([false, true, false, true, true, false], features.Select(f => f.Features.All(float.IsNaN)));
        Assert.All(features.Where((_, i) => i is 0 or 2 or 5), f => Assert.DoesNotContain(f.Features, float.IsNaN));
        Assert.Equal([set.DamagedWebp, set.TruncatedJpeg, set.Html], issues.Select(i => i.ImagePath));
        Assert.All(issues, i => Assert.False(i.Accepted));
        Assert.StartsWith("is truncated", issues[1].Reason);
        Assert.Contains("not an image", issues[2].Reason);

        // ML.NET's own filter drops them, and the good rows' features equal those of a run without bad images.
        var kept = ml.Data.CreateEnumerable<FeatureRow>(ml.Data.FilterRowsByMissingValues(output, "Features"), reuseRowObject: false).ToList();
        Assert.Equal([rows[0].ImagePath, set.Good, rows[5].ImagePath], kept.Select(k => k.ImagePath));
        var clean = ml.Data.LoadFromEnumerable(kept.Select(k => new ImageRow { ImagePath = k.ImagePath }));
        var cleanFeatures = ml.Data.CreateEnumerable<FeatureRow>(Featurizer(ml, clean, options).Transform(clean), reuseRowObject: false).ToList();
        for (var i = 0; i < kept.Count; i++) Assert.Equal(cleanFeatures[i].Features, kept[i].Features);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Accepted_truncated_images_are_featurized_and_reported(bool fastDecode)
    {
        using var dir = new TempDir();
        var ml = new MLContext(1);
        var set = CraftedImages.WriteSet(dir.Path);
        var data = ml.Data.LoadFromEnumerable(new[] { set.Good, set.TruncatedJpeg }.Select(p => new ImageRow { ImagePath = p }));
        var issues = new List<ImageIssue>();
        var options = new EfficientNetFeaturizerOptions { FastDecode = fastDecode, AcceptTruncatedImages = true, OnImageIssue = issues.Add };
        var features = ml.Data.CreateEnumerable<FeatureRow>(Featurizer(ml, data, options).Transform(data), reuseRowObject: false).ToList();
        Assert.All(features, f => Assert.DoesNotContain(f.Features, float.IsNaN));
        var issue = Assert.Single(issues);
        Assert.Equal(set.TruncatedJpeg, issue.ImagePath);
        Assert.True(issue.Accepted);
        Assert.NotEqual(features[0].Features, features[1].Features); // the missing rows are filled, not the whole image copied
    }

    [Fact]
    public void Training_featurization_skips_bad_images_and_never_caches_an_accepted_truncated_one()
    {
        using var dir = new TempDir();
        var ml = new MLContext(1);
        var rows = Rows(Path.Combine(dir.Path, "images"), out var set);
        var images = rows.Select(r => new LabeledImage(r.ImagePath, "x")).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);

        var lenient = Featurizer(ml, data, new EfficientNetFeaturizerOptions { AcceptTruncatedImages = true });
        using var cache = new FeatureCache(Path.Combine(dir.Path, "cache"), lenient.FeatureIdentity, 1280);
        var first = ImageClassifierTrainer.Featurize(ml, lenient, images, cache, skipBadImages: true);
        Assert.Equal([rows[0].ImagePath, set.Good, set.TruncatedJpeg, rows[5].ImagePath], first.Table.Images.Select(i => i.ImagePath));
        Assert.Equal([set.DamagedWebp, set.Html], first.BadImages.Select(b => b.ImagePath));
        Assert.Equal(set.TruncatedJpeg, Assert.Single(first.AcceptedTruncated).ImagePath);

        // A strict run over the same cache must meet the truncated image again, not take it from the cache.
        var strict = Featurizer(ml, data, new EfficientNetFeaturizerOptions());
        Assert.Equal(lenient.FeatureIdentity, strict.FeatureIdentity);
        using var reopened = new FeatureCache(Path.Combine(dir.Path, "cache"), strict.FeatureIdentity, 1280);
        var second = ImageClassifierTrainer.Featurize(ml, strict, images, reopened, skipBadImages: true);
        Assert.Equal(3, second.CacheHits); // the good sample (twice, same content) and good.jpg
        Assert.Equal([set.DamagedWebp, set.TruncatedJpeg, set.Html], second.BadImages.Select(b => b.ImagePath));
        for (var i = 0; i < second.Table.Count; i++)
            Assert.Equal(first.Table.Features[first.Table.Images.ToList().FindIndex(x => x.ImagePath == second.Table.Images[i].ImagePath)], second.Table.Features[i]);

        // Without skipping, the first bad image stops featurization, named.
        var ex = Assert.Throws<BadImageException>(() => ImageClassifierTrainer.Featurize(ml, strict, images));
        Assert.Equal(set.DamagedWebp, ex.InputName);
    }
}
