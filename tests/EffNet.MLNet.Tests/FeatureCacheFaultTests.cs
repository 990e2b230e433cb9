using EffNet.MLNet.Training;
using Microsoft.Data.Sqlite;
using Microsoft.ML;

namespace EffNet.MLNet.Tests;

/// <summary>
/// A feature cache that cannot be used, or whose writes fail, costs a warning and the time to
/// compute features again, never the job: each case is built at test time.
/// </summary>
public class FeatureCacheFaultTests
{
    private const string Identity = "test-identity;graph=1";
    private const int Dimension = 16;

    private static readonly string Hash = new('a', 64);

    private static float[] Vector(float seed) => [.. Enumerable.Range(0, Dimension).Select(i => seed + i)];

    private static string StoreOf(string root) => Path.Combine(root, FeatureCache.FileName);

    // Mutation: the constructor lets FeatureDatabase's IOException escape (no catch) -> throws: fails.
    [Fact]
    public void A_folder_in_place_of_the_store_gives_one_warning_and_a_cache_that_keeps_nothing()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(StoreOf(dir.Path));
        var warnings = new List<string>();

        using var cache = new FeatureCache(dir.Path, Identity, Dimension, warnings.Add);
        cache.AddRange([(Hash, Vector(1))]);

        Assert.False(cache.IsUsable);
        Assert.False(cache.TryGet(Hash, out _));
        Assert.Equal(0, cache.Count);
        var warning = Assert.Single(warnings);
        Assert.Contains(StoreOf(dir.Path), warning);
        Assert.Contains("goes on without it", warning);
    }

    // Mutation: the same -> SqliteException 'no such column' escapes: fails.
    [Fact]
    public void Another_programs_database_is_left_alone_with_one_warning()
    {
        using var dir = new TempDir();
        using (var other = new SqliteConnection($"Data Source={StoreOf(dir.Path)};Pooling=False"))
        {
            other.Open();
            using var create = other.CreateCommand();
            create.CommandText = "CREATE TABLE stores (name TEXT); INSERT INTO stores VALUES ('mine');";
            create.ExecuteNonQuery();
        }
        var before = File.ReadAllBytes(StoreOf(dir.Path));
        var warnings = new List<string>();

        using (var cache = new FeatureCache(dir.Path, Identity, Dimension, warnings.Add))
        {
            cache.AddRange([(Hash, Vector(1))]);
            Assert.False(cache.IsUsable);
        }

        Assert.Contains("cannot be used", Assert.Single(warnings));
        Assert.Equal(before, File.ReadAllBytes(StoreOf(dir.Path)));
    }

    // Root ignores file modes, so the read-only store is an immutable one (chattr +i), where the file system allows it.
    // Mutation: the constructor lets the SqliteException escape -> throws: fails (here, where chattr works).
    [Fact]
    public void An_immutable_store_gives_one_warning_where_chattr_works()
    {
        using var dir = new TempDir();
        using (var cache = new FeatureCache(dir.Path, Identity, Dimension)) cache.AddRange([(Hash, Vector(1))]);
        var store = StoreOf(dir.Path);
        if (ProcessRunner.Run("chattr", ["+i", store]).Code != 0) return; // not supported here: the folder and schema cases stand
        try
        {
            var warnings = new List<string>();
            using var cache = new FeatureCache(dir.Path, Identity, Dimension, warnings.Add);
            cache.AddRange([(new string('b', 64), Vector(2))]);
            Assert.Contains(store, Assert.Single(warnings));
        }
        finally
        {
            ProcessRunner.Run("chattr", ["-i", store]);
        }
    }

    // Mutation: IsTransient without SQLITE_IOERR (10) -> the first I/O error skips the batch and the record is missing: fails.
    [Fact]
    public void A_transient_write_error_is_retried_and_the_record_kept()
    {
        using var dir = new TempDir();
        var warnings = new List<string>();
        using var cache = new FeatureCache(dir.Path, Identity, Dimension, warnings.Add);
        var failures = 2;
        cache.BeforeWrite = () =>
        {
            if (failures-- > 0) throw new SqliteException("disk I/O error", 10);
        };

        cache.AddRange([(Hash, Vector(1))]);

        Assert.Empty(warnings);
        Assert.True(cache.TryGet(Hash, out var back));
        Assert.Equal(Vector(1), back);
    }

    // Mutation: AddRange rethrows a failure that is not transient -> SqliteException escapes: fails.
    [Fact]
    public void A_write_that_keeps_failing_is_skipped_with_one_warning()
    {
        using var dir = new TempDir();
        var warnings = new List<string>();
        using var cache = new FeatureCache(dir.Path, Identity, Dimension, warnings.Add);
        var attempts = 0;
        cache.BeforeWrite = () =>
        {
            attempts++;
            throw new SqliteException("database or disk is full", 13);
        };

        cache.AddRange([(Hash, Vector(1))]);
        cache.AddRange([(new string('b', 64), Vector(2))]);

        Assert.Equal(1, attempts); // a full disk is not retried, and no more writes are tried
        var warning = Assert.Single(warnings);
        Assert.Contains(StoreOf(dir.Path), warning);
        Assert.Contains("SQLite error 13", warning);
        Assert.False(cache.TryGet(Hash, out _));
    }

    // Mutation: the same as above -> Featurize throws mid-run: fails.
    [Fact]
    public void Featurizing_with_a_failing_cache_gives_the_same_features_as_without_one()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(dir.File("data"), 3);
        var images = ImageDataset.FromFolder(data);
        var ml = new MLContext(0);
        var options = new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 3, Resolution = 96 };
        using var featurizer = ml.Transforms.ExtractEfficientNetFeatures(options: options).Fit(ImageClassifierTrainer.EmptyInput(ml));
        var reference = ImageClassifierTrainer.Featurize(ml, featurizer, images, cache: null, skipBadImages: false).Table;

        var warnings = new List<string>();
        using var cache = new FeatureCache(dir.File("cache"), featurizer.FeatureIdentity, featurizer.Backbone.FeatureDimension, warnings.Add);
        cache.BeforeWrite = () => throw new SqliteException("attempt to write a readonly database", 8);
        var result = ImageClassifierTrainer.Featurize(ml, featurizer, images, cache, skipBadImages: false);

        Assert.Equal(images.Count, result.Table.Count);
        for (var i = 0; i < images.Count; i++) Assert.Equal(reference.Features[i], result.Table.Features[i]);
        Assert.Contains("Could not write to the feature cache", Assert.Single(warnings));
        Assert.Equal(0, cache.Count);
    }
}
