using System.Diagnostics;
using System.Text.Json;
using EffNet.MLNet.Training;
using Microsoft.Data.Sqlite;
using Microsoft.ML;
using SkiaSharp;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The feature cache as <c>effnet train</c> uses it, in real processes: Ctrl+C mid-featurization,
/// and two trainings on one EFFNET_HOME at once.
/// </summary>
public class CliFeatureCacheTests
{
    private const int Dimension = 1280;

    [Fact]
    [Trait("Category", "Slow")]
    public void Ctrl_C_during_train_writes_nothing_and_a_rerun_completes_with_correct_cache_hits()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // SIGINT is sent with kill(1)
        using var home = new TempDir();
        using var data = new TempDir();
        using var output = new TempDir();
        var images = GeneratedImages(data.Path, perLabel: 70, seed: 1);
        var model = output.File("model.zip");
        var database = Path.Combine(home.Path, "features", FeatureCache.FileName);

        using (var run = RunningEffnet.Start(home.Path, "train", "--data", data.Path, "--out", model, "--random-init", "--trainer", "sdca"))
        {
            var deadline = Stopwatch.StartNew();
            while (Rows(database) == 0)
            {
                if (run.Process.HasExited) Assert.Fail("train ended before it stored any feature: " + run.Finish().Err);
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(3), "no feature reached the cache in 3 minutes");
                Thread.Sleep(50);
            }
            run.Interrupt();
            var (code, _, err) = run.Finish();
            Assert.True(code == 130, $"exit code {code}; stderr: {err}");
            var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains("interrupted", line);
        }
        // No model, no model.json, no picture, no temporary file.
        Assert.Empty(Directory.EnumerateFileSystemEntries(output.Path));
        var kept = Rows(database);
        Assert.InRange(kept, 1, images.Count - 1);

        var (again, stdout, stderr) = CliTests.EffnetWithHome(home.Path, "train", "--data", data.Path, "--out", model, "--random-init", "--trainer", "sdca", "--json");
        Assert.True(again == 0, stderr);
        var report = JsonDocument.Parse(stdout).RootElement.GetProperty("data");
        Assert.Equal(kept, report.GetProperty("cachedImages").GetInt32());
        Assert.Equal(images.Count - kept, report.GetProperty("featurizedImages").GetInt32());
        Assert.True(File.Exists(model) && File.Exists(output.File("model.json")));
        AssertCachedFeaturesAreFresh(home.Path, images, expectedCount: images.Count);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Two_trainings_at_once_on_one_home_both_succeed_and_lose_no_feature()
    {
        using var home = new TempDir();
        using var first = new TempDir();
        using var second = new TempDir();
        var a = GeneratedImages(first.Path, perLabel: 30, seed: 2);
        var b = GeneratedImages(second.Path, perLabel: 25, seed: 3);
        // Some images in both datasets: both processes featurize and store them.
        foreach (var shared in a.Where((_, i) => i % 5 == 0))
            File.Copy(shared, Path.Combine(second.Path, Path.GetFileName(Path.GetDirectoryName(shared))!, "shared-" + Path.GetFileName(shared)));
        var union = a.Concat(Directory.GetFiles(second.Path, "*.jpg", SearchOption.AllDirectories)).ToList();

        using var one = RunningEffnet.Start(home.Path, "train", "--data", first.Path, "--out", first.File("model.zip"), "--random-init", "--trainer", "sdca", "--quiet");
        using var two = RunningEffnet.Start(home.Path, "train", "--data", second.Path, "--out", second.File("model.zip"), "--random-init", "--trainer", "sdca", "--quiet");
        var r1 = one.Finish();
        var r2 = two.Finish();
        Assert.True(r1.Code == 0, r1.Err);
        Assert.True(r2.Code == 0, r2.Err);
        AssertCachedFeaturesAreFresh(home.Path, union, expectedCount: union.Select(FeatureCache.ContentHash).Distinct().Count());
    }

    /// <summary>
    /// The cache holds exactly these images under the CLI's identity; every one is there, and a
    /// sample of them (every third) equals features computed here.
    /// </summary>
    private static void AssertCachedFeaturesAreFresh(string home, IReadOnlyList<string> images, int expectedCount)
    {
        var ml = new MLContext(0);
        var options = new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 0 };
        var rows = images.Select(p => new ImageRow { ImagePath = p, Label = "x" }).ToList();
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(EfficientNetBackbone.Resolve(options), options: options)
            .Fit(ml.Data.LoadFromEnumerable(rows));
        var root = Path.Combine(home, "features");
        Assert.Equal([featurizer.FeatureIdentity], Identities(Path.Combine(root, FeatureCache.FileName)));

        using var cache = new FeatureCache(root, featurizer.FeatureIdentity, Dimension);
        Assert.Equal(expectedCount, cache.Count);
        Assert.All(images, p => Assert.True(cache.TryGet(FeatureCache.ContentHash(p), out _), $"{p} is not in the cache"));
        var sample = images.Where((_, i) => i % 3 == 0).ToList();
        var fresh = ImageClassifierTrainer.Featurize(ml, featurizer, sample.Select(p => new LabeledImage(p, "x")).ToList());
        for (var i = 0; i < sample.Count; i++)
        {
            Assert.True(cache.TryGet(FeatureCache.ContentHash(sample[i]), out var cached));
            var error = cached.Zip(fresh.Features[i], (x, y) => Math.Abs(x - y)).Max();
            Assert.True(error < 1e-4, $"{sample[i]}: cached features differ from fresh ones by {error}");
        }
    }

    private static int Rows(string database)
    {
        if (!File.Exists(database)) return 0;
        try
        {
            using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var count = connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM features";
            return Convert.ToInt32(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (SqliteException) { return 0; } // not created yet, or busy
    }

    private static List<string> Identities(string database)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT identity FROM stores";
        using var reader = select.ExecuteReader();
        var identities = new List<string>();
        while (reader.Read()) identities.Add(reader.GetString(0));
        return identities;
    }

    /// <summary>Small, all different JPEGs in three label folders, each label its own colour.</summary>
    private static List<string> GeneratedImages(string root, int perLabel, int seed)
    {
        var random = new Random(seed);
        var paths = new List<string>();
        foreach (var (label, colour) in new[] { ("red", SKColors.IndianRed), ("green", SKColors.SeaGreen), ("blue", SKColors.SteelBlue) })
        {
            Directory.CreateDirectory(Path.Combine(root, label));
            for (var i = 0; i < perLabel; i++)
            {
                using var bitmap = new SKBitmap(64, 48);
                using (var canvas = new SKCanvas(bitmap))
                using (var paint = new SKPaint { Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)) })
                {
                    canvas.Clear(colour);
                    canvas.DrawRect(random.Next(48), random.Next(32), 4 + random.Next(16), 4 + random.Next(16), paint);
                }
                using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
                var path = Path.Combine(root, label, $"{label}-{seed}-{i:000}.jpg");
                File.WriteAllBytes(path, jpeg.ToArray());
                paths.Add(path);
            }
        }
        Assert.Equal(paths.Count, paths.Select(FeatureCache.ContentHash).Distinct().Count());
        return paths;
    }
}
