using EffNet.MLNet.Cli.Shards;

namespace EffNet.MLNet.Tests;

/// <summary>The stable split of a dataset into shards, and where a batch engine's index comes from.</summary>
public class ShardSpecTests
{
    // The reference values are Python's hashlib: int.from_bytes(sha256(key.encode()).digest()[:8], 'big').
    // Mutation: StableHash reads the first 8 bytes little-endian -> fails.
    // Mutation (not run): StableHash uses key.GetHashCode() (randomised per process) -> should fail.
    [Theory]
    [InlineData("checkers/checkers-00.jpg", 10255532106015673676UL)]
    [InlineData("a/b.jpg", 5355170705667769368UL)]
    public void The_hash_is_sha256_of_the_relative_path_as_python_computes_it(string key, ulong expected) =>
        Assert.Equal(expected, ShardSpec.StableHash(key));

    // Mutation: RelativeKey drops .Normalize(NormalizationForm.FormC) -> fails.
    [Fact]
    public void Keys_are_relative_with_forward_slashes_and_nfc()
    {
        var root = Path.Combine(Path.GetTempPath(), "data");
        Assert.Equal("caf\u00e9/x.jpg", ShardSpec.RelativeKey(root, Path.Combine(root, "cafe\u0301", "x.jpg")));
        Assert.Equal(3UL, ShardSpec.StableHash(ShardSpec.RelativeKey(root, Path.Combine(root, "cafe\u0301", "x.jpg"))) % 7);
    }

    // Mutation (not run): Owns compares with (Index + 1) -> should fail (a key owned by no shard).
    [Fact]
    public void Every_key_is_owned_by_exactly_one_shard_and_the_shards_are_balanced()
    {
        var keys = Enumerable.Range(0, 4000).Select(i => $"label{i % 7}/img-{i:D5}.jpg").ToList();
        var shards = Enumerable.Range(0, 4).Select(i => new ShardSpec(i, 4)).ToList();
        Assert.All(keys, k => Assert.Single(shards, s => s.Owns(k)));
        Assert.All(shards, s => Assert.InRange(keys.Count(s.Owns), 900, 1100));
        Assert.All(keys, k => Assert.True(ShardSpec.Whole.Owns(k)));
    }

    [Theory]
    [InlineData("2/4", 2, 4)]
    [InlineData("0/1", 0, 1)]
    public void Parse_reads_index_and_count(string text, int index, int count) =>
        Assert.Equal(new ShardSpec(index, count), ShardSpec.Parse(text));

    [Theory]
    [InlineData("4/4")]
    [InlineData("-1/4")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    public void Parse_refuses_what_is_not_a_shard(string text) =>
        Assert.Contains("--shard", Assert.Throws<ArgumentException>(() => ShardSpec.Parse(text)).Message);

    // Mutation: FromEnvironment ignores SLURM_ARRAY_TASK_MIN -> fails (an array 1-4 gives index 4 of 4).
    [Fact]
    public void The_index_comes_from_kubernetes_or_slurm()
    {
        Func<string, string?> Env(params (string, string)[] vars) => name => vars.FirstOrDefault(v => v.Item1 == name).Item2;
        Assert.Equal(new ShardSpec(3, 8), ShardSpec.FromEnvironment(8, Env(("JOB_COMPLETION_INDEX", "3"))));
        Assert.Equal(new ShardSpec(2, 4), ShardSpec.FromEnvironment(null, Env(("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "4"))));
        Assert.Equal(new ShardSpec(3, 4), ShardSpec.FromEnvironment(4, Env(("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4"))));
        Assert.Contains("--shards N", Assert.Throws<ArgumentException>(() => ShardSpec.FromEnvironment(null, Env(("JOB_COMPLETION_INDEX", "3")))).Message);
        Assert.Contains("SLURM_ARRAY_TASK_COUNT=5", Assert.Throws<ArgumentException>(() => ShardSpec.FromEnvironment(4, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "5")))).Message);
        Assert.Contains("[0, 3]", Assert.Throws<ArgumentException>(() => ShardSpec.FromEnvironment(4, Env(("JOB_COMPLETION_INDEX", "4")))).Message);
        Assert.Contains("neither is set", Assert.Throws<ArgumentException>(() => ShardSpec.FromEnvironment(4, Env())).Message);
        Assert.Contains("not a whole number", Assert.Throws<ArgumentException>(() => ShardSpec.FromEnvironment(4, Env(("JOB_COMPLETION_INDEX", "x")))).Message);
    }
}
