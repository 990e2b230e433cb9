using System.Text.Json;
using Microsoft.ML;
using EffNet.MLNet.Cli.Shards;

namespace EffNet.MLNet.Tests;

/// <summary>
/// effnet featurize --shard I/N run as separate processes, as a batch engine runs them, then merged:
/// the result must be the unsharded run, bit for bit, each image once — also after a shard is killed.
/// </summary>
public class ShardedFeaturizeTests
{
    private static readonly string[] Tiny = ["--random-init", "--variant", ShardFixtures.TinyVariant];

    // Mutation (not run): FeaturesTrainingRun skips the FeatureIdentity comparison -> should fail.
    // Mutation: ShardSpec.Owns returns true for every key -> fails (merge refuses the image found in two shards).
    // Mutation: FeatureParquet.Read returns each vector reversed -> fails (the .idv reference disagrees).
    [Fact]
    public void Four_shards_run_together_merge_to_the_unsharded_rows_bit_for_bit_and_train_without_images()
    {
        using var dir = new TempDir();
        var data = ShardFixtures.CopySampleData(dir.File("data"));
        var images = Training.ImageDataset.Load(data);
        var shards = dir.File("shards");
        // One home (feature cache) per shard, as on four machines.
        var runs = Enumerable.Range(0, 4)
            .Select(i => Task.Run(() => CliTests.EffnetWithHome(dir.File($"home{i}"), ["featurize", "--data", data, "--out", shards, "--shard", $"{i}/4", .. Tiny])))
            .ToArray();
        Task.WaitAll(runs);
        Assert.All(runs, r => Assert.True(r.Result.Code == 0, r.Result.Err));
        var single = CliTests.EffnetWithHome(dir.File("home-single"), ["featurize", "--data", data, "--out", dir.File("single.parquet"), .. Tiny]);
        Assert.True(single.Code == 0, single.Err);
        var merge = CliTests.Effnet("merge", "--in", shards, "--out", dir.File("merged.parquet"));
        Assert.True(merge.Code == 0, merge.Err);

        // The .idv path (ML.NET's own binary format) is the reference for what the Parquet files hold.
        var idv = CliTests.EffnetWithHome(dir.File("home-single"), ["featurize", "--data", data, "--out", dir.File("single.idv"), .. Tiny]);
        Assert.True(idv.Code == 0, idv.Err);
        var (_, expected) = FeatureParquet.Read(dir.File("single.parquet"));
        var (info, merged) = FeatureParquet.Read(dir.File("merged.parquet"));
        var ml = new Microsoft.ML.MLContext(0);
        var reference = ml.Data.CreateEnumerable<ShardFixtures.IdvRow>(ml.Data.LoadFromBinary(dir.File("single.idv")), false)
            .ToDictionary(r => ShardSpec.RelativeKey(data, r.ImagePath), r => r.Features);
        Assert.Equal(reference.Count, merged.Count);
        Assert.All(merged, r => Assert.Equal(reference[r.Path].Select(BitConverter.SingleToInt32Bits), r.Vector.Select(BitConverter.SingleToInt32Bits)));
        Assert.Equal(images.Count, merged.Count);
        Assert.Equal(images.Select(i => ShardSpec.RelativeKey(data, i.ImagePath)).Order(StringComparer.Ordinal), merged.Select(r => r.Path));
        ShardFixtures.AssertSameRows(expected, merged);
        Assert.Equal(ShardSpec.Whole, info.Shard);
        Assert.Equal(320, info.Dimension);

        // Each shard holds exactly the images its hash gives it, and says so in its report.
        for (var i = 0; i < 4; i++)
        {
            var shard = new ShardSpec(i, 4);
            var (partInfo, part) = FeatureParquet.Read(Path.Combine(shards, shard.FileName));
            Assert.Equal(shard, partInfo.Shard);
            Assert.NotEmpty(part);
            Assert.All(part, r => Assert.True(shard.Owns(r.Path), r.Path));
            using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(shards, shard.ReportName)));
            Assert.Equal(part.Count, report.RootElement.GetProperty("rows").GetInt32());
        }

        // train --features refuses features of another backbone than its own, naming both.
        var wrong = CliTests.Effnet(["train", "--features", shards, "--out", dir.File("wrong.zip"), "--random-init", "--variant", "b0"]);
        Assert.Equal(3, wrong.Code);
        Assert.Contains("efficientnet-custom(w=0.25,d=0.25,r=64)", Flat(wrong.Err));
        Assert.Contains("efficientnet-b0", Flat(wrong.Err));

        // Training after a distributed featurization needs no image: remove them all first.
        Directory.Delete(data, recursive: true);
        var model = dir.File("model.zip");
        var train = CliTests.EffnetWithHome(dir.File("home-train"), ["train", "--features", shards, "--out", model, "--trainer", "lbfgs", "--quiet", .. Tiny]);
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("no image decoded", train.Out);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(model, ".json")));
        Assert.Equal(images.Count, json.RootElement.GetProperty("data").GetProperty("images").GetInt32());
        Assert.Equal(0, json.RootElement.GetProperty("data").GetProperty("featurizedImages").GetInt32());
        Assert.True(File.Exists(model));
    }

    // Mutation: ShardedFeaturizeRun passes no feature cache to Featurize (cache: null) -> fails (the rerun reports 0 cache hits).
    // Mutation: ShardedFeaturizeRun never skips a finished shard (Finished(...) not consulted) -> fails ("already complete").
    // Not covered: a kill during the Parquet write itself (AtomicFile's temporary file and rename; AtomicFileTests hold those).
    [Fact]
    [Trait("Category", "Slow")]   // b0 on 200 images, twice, and a kill: ~1 min on 2 busy cores
    public void A_shard_killed_mid_run_is_completed_by_a_rerun_and_the_merge_is_still_exact()
    {
        using var dir = new TempDir();
        var data = ShardFixtures.NoiseImages(dir.File("data"), 200);
        var shards = dir.File("shards");
        string[] b0 = ["--random-init", "--variant", "b0"];
        var home0 = dir.File("home0");

        var victim = ShardFixtures.Start(home0, ["featurize", "--data", data, "--out", shards, "--shard", "0/2", .. b0]);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        // Killed once its first batch of features is committed to the cache: mid-run, with most images still to go.
        while (ShardFixtures.CachedVectors(home0) == 0 && !victim.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.False(victim.HasExited, "the shard finished before it could be killed; give it more images");
        victim.Kill(); // SIGKILL on Unix
        victim.WaitForExit();
        var part0 = Path.Combine(shards, new ShardSpec(0, 2).FileName);
        Assert.False(File.Exists(part0), "a killed shard must leave no output file");
        var cached = ShardFixtures.CachedVectors(home0);
        Assert.InRange(cached, 1, 99);

        var rerun = CliTests.EffnetWithHome(home0, ["featurize", "--data", data, "--out", shards, "--shard", "0/2", .. b0]);
        Assert.True(rerun.Code == 0, rerun.Err);
        using (var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(shards, new ShardSpec(0, 2).ReportName))))
            Assert.Equal(cached, report.RootElement.GetProperty("cacheHits").GetInt32());
        var other = CliTests.EffnetWithHome(dir.File("home1"), ["featurize", "--data", data, "--out", shards, "--shard", "1/2", .. b0]);
        Assert.True(other.Code == 0, other.Err);
        // A finished shard is skipped, not redone.
        var again = CliTests.EffnetWithHome(dir.File("home1"), ["featurize", "--data", data, "--out", shards, "--shard", "1/2", .. b0]);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("already complete", again.Out);

        var single = CliTests.EffnetWithHome(dir.File("home-single"), ["featurize", "--data", data, "--out", dir.File("single.parquet"), .. b0]);
        Assert.True(single.Code == 0, single.Err);
        var merge = CliTests.Effnet("merge", "--in", shards, "--out", dir.File("merged.parquet"));
        Assert.True(merge.Code == 0, merge.Err);
        var (_, expected) = FeatureParquet.Read(dir.File("single.parquet"));
        var (_, merged) = FeatureParquet.Read(dir.File("merged.parquet"));
        Assert.Equal(200, merged.Count);
        Assert.Equal(200, merged.Select(r => r.Path).Distinct().Count());
        ShardFixtures.AssertSameRows(expected, merged);
    }

    // Mutation: ShardSet.Load skips the identity comparison -> fails.
    // Mutation: ShardSet.Load skips the missing-shard check -> fails.
    // Mutation: ShardSet.Load keeps rows already seen (TryAdd result ignored) -> fails.
    [Fact]
    public void Shards_of_two_backbones_missing_shards_and_duplicated_images_are_refused_by_name()
    {
        using var dir = new TempDir();
        var shards = dir.File("shards");
        var home = dir.File("home");
        var a = CliTests.EffnetWithHome(home, ["featurize", "--data", SampleData.Folder, "--out", shards, "--shard", "0/2", .. Tiny]);
        Assert.True(a.Code == 0, a.Err);
        var b = CliTests.EffnetWithHome(home, ["featurize", "--data", SampleData.Folder, "--out", shards, "--shard", "1/2", "--weights-seed", "1", .. Tiny]);
        Assert.True(b.Code == 0, b.Err);

        var part0 = Path.Combine(shards, new ShardSpec(0, 2).FileName);
        var part1 = Path.Combine(shards, new ShardSpec(1, 2).FileName);
        var merge = CliTests.Effnet("merge", "--in", shards, "--out", dir.File("m.parquet"));
        Assert.Equal(3, merge.Code);
        var said = Flat(merge.Err);
        Assert.Contains("different backbones", said);
        Assert.Contains(part0, said);
        Assert.Contains(part1, said);
        Assert.Contains("weights=random-seed-0", said);
        Assert.Contains("weights=random-seed-1", said);
        Assert.False(File.Exists(dir.File("m.parquet")));

        File.Delete(part1);
        var missing = CliTests.Effnet("merge", "--in", shards, "--out", dir.File("m.parquet"));
        Assert.Equal(3, missing.Code);
        Assert.True(Flat(missing.Err).Contains("lacks 1 of 2 shards: part-00001-of-00002.parquet", StringComparison.Ordinal), missing.Err);

        // A shard 1/2 of the same backbone that also holds an image of shard 0.
        var (info, rows) = FeatureParquet.Read(part0);
        var forged = info with { Shard = new ShardSpec(1, 2), Rows = 1 };
        using (var stream = File.Create(part1)) FeatureParquet.Write(stream, forged, [rows[0]]);
        var twice = CliTests.Effnet("merge", "--in", shards, "--out", dir.File("m.parquet"));
        Assert.Equal(3, twice.Code);
        Assert.Contains($"'{rows[0].Path}' is in both", Flat(twice.Err));
    }

    private static string Flat(string text) => text.Replace("\r", "").Replace("\n", "");
}
