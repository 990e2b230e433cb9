using System.Security.Cryptography;
using EffNet.MLNet.Training;
using Microsoft.Data.Sqlite;

namespace EffNet.MLNet.Tests;

/// <summary>The feature store on its own: crashes at any byte, damage, old files, memory.</summary>
public class FeatureCacheTests
{
    private const string Identity = "test-identity;graph=1";
    private const int Dimension = 1280;

    [Fact]
    public void Vectors_come_back_exactly_after_reopening()
    {
        using var dir = new TempDir();
        var records = Records(50, seed: 1);
        using (var cache = new FeatureCache(dir.Path, Identity, Dimension))
            cache.AddRange(records);
        using var again = new FeatureCache(dir.Path, Identity, Dimension);
        Assert.Equal(50, again.Count);
        foreach (var (hash, vector) in records)
        {
            Assert.True(again.TryGet(hash, out var stored));
            Assert.Equal(vector, stored);
        }
        Assert.False(again.TryGet(Hash(999), out _));
    }

    [Fact]
    public void Another_identity_or_dimension_sees_none_of_the_vectors()
    {
        using var dir = new TempDir();
        var records = Records(5, seed: 2);
        using var cache = new FeatureCache(dir.Path, Identity, Dimension);
        cache.AddRange(records);
        using var other = new FeatureCache(dir.Path, Identity + ";decode=other", Dimension);
        using var shorter = new FeatureCache(dir.Path, Identity, 64);
        Assert.Equal(0, other.Count);
        Assert.False(other.TryGet(records[0].Hash, out _));
        Assert.False(shorter.TryGet(records[0].Hash, out _));
        Assert.Throws<ArgumentException>(() => shorter.AddRange([(records[0].Hash, new float[3])]));
    }

    /// <summary>
    /// A crash can stop a write at any byte. Snapshots of the files taken while a writer was
    /// mid-way (log not yet folded into the database) and after it closed are cut at random
    /// offsets, sometimes with garbage where the torn write stopped; every open of what is left
    /// gives only misses or the exact vectors, and running again fills the store back.
    /// </summary>
    [Fact]
    public void A_store_cut_at_any_byte_gives_only_misses_or_the_right_vectors_and_refills()
    {
        using var dir = new TempDir();
        var records = Records(60, seed: 3);
        var expected = records.ToDictionary(r => r.Hash, r => r.Vector);
        var open = Path.Combine(dir.Path, "open");
        var closed = Path.Combine(dir.Path, "closed");
        using (var writer = new FeatureCache(Path.Combine(dir.Path, "live"), Identity, Dimension))
        {
            for (var i = 0; i < records.Count; i += 10) writer.AddRange(records.Skip(i).Take(10));
            CopyStore(writer.StorePath, open); // as a crash would leave it: the commits are still in the log
            Assert.True(File.Exists(Path.Combine(open, FeatureCache.FileName + "-wal")));
        }
        CopyStore(Path.Combine(dir.Path, "live", FeatureCache.FileName), closed);

        var random = new Random(12345);
        var partial = 0;
        var recreated = 0;
        for (var trial = 0; trial < 80; trial++)
        {
            var snapshot = trial % 2 == 0 ? open : closed;
            var root = Path.Combine(dir.Path, "trial" + trial);
            CopyStore(Path.Combine(snapshot, FeatureCache.FileName), root);
            var files = Directory.GetFiles(root).Where(f => !f.EndsWith("-shm", StringComparison.Ordinal)).ToList();
            var victim = files[random.Next(files.Count)];
            var length = new FileInfo(victim).Length;
            var cut = random.NextInt64(0, length + 1);
            using (var stream = new FileStream(victim, FileMode.Open, FileAccess.Write))
            {
                stream.SetLength(cut);
                if (random.Next(2) == 0)
                {
                    // A torn write: the sector holds bytes that were never meant to be there.
                    var garbage = new byte[random.Next(1, 8192)];
                    random.NextBytes(garbage);
                    stream.Position = cut;
                    stream.Write(garbage);
                }
            }

            var warnings = new List<string>();
            using var cache = new FeatureCache(root, Identity, Dimension, warnings.Add);
            var hits = 0;
            foreach (var (hash, vector) in records)
            {
                if (!cache.TryGet(hash, out var stored)) continue;
                Assert.True(vector.SequenceEqual(stored), $"trial {trial}: {Path.GetFileName(victim)} cut at {cut} of {length} served a wrong vector");
                hits++;
            }
            if (hits is > 0 and < 60) partial++;
            if (warnings.Count > 0) recreated++;

            // Running again computes the misses and stores them; then everything is there.
            cache.AddRange(records.Where(r => !cache.TryGet(r.Hash, out _)));
            foreach (var (hash, _) in records)
            {
                Assert.True(cache.TryGet(hash, out var stored), $"trial {trial}: missing after the re-run");
                Assert.Equal(expected[hash], stored);
            }
        }
        // The cuts did land in the middle of the data, and some left a store SQLite calls damaged.
        Assert.True(partial >= 5, $"only {partial} trials kept part of the vectors");
        Assert.True(recreated >= 1, "no trial damaged the store");
    }

    [Fact]
    public void Damage_found_by_a_lookup_replaces_the_store_and_the_lookup_is_a_miss()
    {
        using var dir = new TempDir();
        var records = Records(60, seed: 9);
        using (var writer = new FeatureCache(dir.Path, Identity, Dimension))
            writer.AddRange(records);
        var warnings = new List<string>();
        using var cache = new FeatureCache(dir.Path, Identity, Dimension, warnings.Add);
        // Damaged after opening: every page but the first few (schema and the identity table) turns to noise.
        var database = Path.Combine(dir.Path, FeatureCache.FileName);
        var noise = new byte[new FileInfo(database).Length - 16384];
        new Random(9).NextBytes(noise);
        using (var stream = new FileStream(database, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.Position = 16384;
            stream.Write(noise);
        }
        Assert.All(records, r => Assert.False(cache.TryGet(r.Hash, out _)));
        Assert.Contains("damaged", Assert.Single(warnings));
        cache.AddRange(records);
        Assert.All(records, r => Assert.True(cache.TryGet(r.Hash, out var v) && v.SequenceEqual(r.Vector)));
    }

    [Fact]
    public void A_record_damaged_or_filed_under_another_image_is_a_miss_with_one_warning()
    {
        using var dir = new TempDir();
        var records = Records(3, seed: 4);
        var warnings = new List<string>();
        using var cache = new FeatureCache(dir.Path, Identity, Dimension, warnings.Add);
        cache.AddRange(records);
        using (var db = new SqliteConnection($"Data Source={cache.StorePath};Pooling=False"))
        {
            db.Open();
            // One bit of the first vector flipped; the second record given the third's vector and checksum.
            var flipped = new byte[Dimension * 4];
            Buffer.BlockCopy(records[0].Vector, 0, flipped, 0, flipped.Length);
            flipped[101] ^= 1;
            using var damage = db.CreateCommand();
            damage.CommandText = """
                UPDATE features SET vector = $flipped WHERE hash = $a;
                UPDATE features SET vector = (SELECT vector FROM features WHERE hash = $c), checksum = (SELECT checksum FROM features WHERE hash = $c) WHERE hash = $b;
                """;
            damage.Parameters.AddWithValue("$flipped", flipped);
            damage.Parameters.AddWithValue("$a", Convert.FromHexString(records[0].Hash));
            damage.Parameters.AddWithValue("$b", Convert.FromHexString(records[1].Hash));
            damage.Parameters.AddWithValue("$c", Convert.FromHexString(records[2].Hash));
            Assert.Equal(2, damage.ExecuteNonQuery());
        }
        Assert.False(cache.TryGet(records[0].Hash, out _));
        Assert.False(cache.TryGet(records[1].Hash, out _));
        Assert.True(cache.TryGet(records[2].Hash, out var third));
        Assert.Equal(records[2].Vector, third);
        Assert.Equal(2, cache.DiscardedRecords);
        Assert.Single(warnings);

        cache.AddRange(records.Take(2));
        Assert.True(cache.TryGet(records[0].Hash, out var first));
        Assert.Equal(records[0].Vector, first);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_replaced_with_a_warning()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, FeatureCache.FileName), "this is not an SQLite database, just some text that is long enough");
        var warnings = new List<string>();
        using var cache = new FeatureCache(dir.Path, Identity, Dimension, warnings.Add);
        Assert.Contains(FeatureCache.FileName, Assert.Single(warnings));
        var records = Records(2, seed: 5);
        cache.AddRange(records);
        Assert.True(cache.TryGet(records[1].Hash, out _));
    }

    [Fact]
    public void Files_of_the_old_append_only_format_are_ignored()
    {
        using var dir = new TempDir();
        var old = Directory.CreateDirectory(Path.Combine(dir.Path, "0123456789abcdef")).FullName;
        File.WriteAllText(Path.Combine(old, "identity.txt"), Identity);
        var legacy = new byte[3 * (32 + Dimension * 4) + 17];
        new Random(6).NextBytes(legacy);
        File.WriteAllBytes(Path.Combine(old, $"features-{Dimension}.bin"), legacy);

        using var cache = new FeatureCache(dir.Path, Identity, Dimension);
        Assert.Equal(0, cache.Count);
        var records = Records(2, seed: 6);
        cache.AddRange(records);
        Assert.True(cache.TryGet(records[0].Hash, out var stored));
        Assert.Equal(records[0].Vector, stored);
        Assert.True(File.Exists(Path.Combine(old, $"features-{Dimension}.bin")));
    }

    [Fact]
    public void Opening_and_looking_up_reads_records_not_the_whole_store()
    {
        using var dir = new TempDir();
        var records = Records(2000, seed: 7); // 10 MB of vectors
        using (var cache = new FeatureCache(dir.Path, Identity, Dimension))
            for (var i = 0; i < records.Count; i += 500) cache.AddRange(records.Skip(i).Take(500));
        Assert.True(new FileInfo(Path.Combine(dir.Path, FeatureCache.FileName)).Length > 10_000_000);

        var before = GC.GetAllocatedBytesForCurrentThread();
        using (var cache = new FeatureCache(dir.Path, Identity, Dimension))
        {
            for (var i = 0; i < 20; i++) Assert.True(cache.TryGet(records[i * 97].Hash, out _));
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // 20 vectors are 100 KB; the store is 10 MB.
        Assert.True(allocated < 1_000_000, $"opening and 20 lookups allocated {allocated:N0} bytes");
    }

    [Fact]
    public void Two_caches_writing_at_once_in_one_process_lose_nothing()
    {
        using var dir = new TempDir();
        var records = Records(200, seed: 8);
        Parallel.For(0, 4, part =>
        {
            using var cache = new FeatureCache(dir.Path, Identity, Dimension);
            foreach (var chunk in records.Where((_, i) => i % 4 == part).Chunk(5)) cache.AddRange(chunk);
        });
        using var all = new FeatureCache(dir.Path, Identity, Dimension);
        Assert.Equal(200, all.Count);
        Assert.All(records, r => Assert.True(all.TryGet(r.Hash, out var v) && v.SequenceEqual(r.Vector)));
    }

    internal static string Hash(int i) => Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));

    private static List<(string Hash, float[] Vector)> Records(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => (Hash(seed * 100_000 + i), Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble() * 4 - 2).ToArray()))
            .ToList();
    }

    private static void CopyStore(string database, string intoFolder)
    {
        Directory.CreateDirectory(intoFolder);
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            if (File.Exists(database + suffix))
                File.Copy(database + suffix, Path.Combine(intoFolder, Path.GetFileName(database) + suffix), overwrite: true);
    }
}
