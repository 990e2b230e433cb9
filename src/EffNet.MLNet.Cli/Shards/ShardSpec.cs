using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EffNet.MLNet.Cli.Shards;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/>: the images whose relative path hashes to it. The hash
/// is SHA-256 of the path as UTF-8 (separators '/', Unicode NFC), never .NET's string hash, which is
/// randomised per process: every machine, listing order and run must agree on the split.
/// </summary>
internal sealed record ShardSpec(int Index, int Count)
{
    /// <summary>The most shards a run may be split into.</summary>
    public const int MaxCount = 100_000;

    /// <summary>The one-shard run: every image.</summary>
    public static ShardSpec Whole { get; } = new(0, 1);

    /// <summary>The output file of this shard inside the output folder.</summary>
    public string FileName => string.Create(CultureInfo.InvariantCulture, $"part-{Index:D5}-of-{Count:D5}.parquet");

    /// <summary>The shard's report beside its output.</summary>
    public string ReportName => Path.ChangeExtension(FileName, ".report.json");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    /// <summary>Whether the image at <paramref name="relativePath"/> (from <see cref="RelativeKey"/>) belongs to this shard.</summary>
    public bool Owns(string relativePath) => Count == 1 || (int)(StableHash(relativePath) % (ulong)Count) == Index;

    /// <summary>The first 8 bytes of SHA-256 of the key's UTF-8, big-endian.</summary>
    public static ulong StableHash(string key)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest);
    }

    /// <summary>
    /// The key an image is partitioned and merged by: its path relative to the dataset's root, with '/'
    /// separators and NFC normalisation, so the same tree mounted elsewhere gives the same keys.
    /// </summary>
    public static string RelativeKey(string root, string imagePath) =>
        Path.GetRelativePath(root, imagePath).Replace('\\', '/').Normalize(NormalizationForm.FormC);

    /// <summary>"I/N" with 0 ≤ I &lt; N.</summary>
    /// <exception cref="ArgumentException">Not of that form.</exception>
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            throw new ArgumentException($"--shard must be I/N (shard I of N, counted from 0), not '{text}'.");
        return Checked(index, count, "--shard " + text);
    }

    /// <summary>
    /// The shard this process is, from <c>--shards N</c> and the batch engine's index: Kubernetes Indexed
    /// Jobs' <c>JOB_COMPLETION_INDEX</c>, else a Slurm array's <c>SLURM_ARRAY_TASK_ID</c> (less
    /// <c>SLURM_ARRAY_TASK_MIN</c>). With <paramref name="count"/> null, Slurm's <c>SLURM_ARRAY_TASK_COUNT</c> gives N.
    /// </summary>
    /// <exception cref="ArgumentException">No index in the environment, or one that does not fit N.</exception>
    public static ShardSpec FromEnvironment(int? count, Func<string, string?> environment)
    {
        if (Number(environment, "JOB_COMPLETION_INDEX") is { } k8s)
            return count is { } n
                ? Checked(k8s, n, $"JOB_COMPLETION_INDEX={k8s} with --shards {n}")
                : throw new ArgumentException("JOB_COMPLETION_INDEX is set but Kubernetes does not say how many completions the Job has; pass --shards N (the Job's completions).");
        if (Number(environment, "SLURM_ARRAY_TASK_ID") is { } slurm)
        {
            var min = Number(environment, "SLURM_ARRAY_TASK_MIN") ?? 0;
            var slurmCount = Number(environment, "SLURM_ARRAY_TASK_COUNT");
            if (count is { } n && slurmCount is { } sc && sc != n)
                throw new ArgumentException($"--shards {n} disagrees with SLURM_ARRAY_TASK_COUNT={sc}; give the array as many tasks as shards (--array=0-{n - 1}).");
            var total = count ?? slurmCount
                ?? throw new ArgumentException("SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT; pass --shards N.");
            return Checked(slurm - min, total, $"SLURM_ARRAY_TASK_ID={slurm} (SLURM_ARRAY_TASK_MIN={min}) with {total} shards");
        }
        throw new ArgumentException("--shards N takes the shard's index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (a Slurm array), and neither is set; elsewhere (Azure Batch included) pass --shard I/N.");
    }

    private static int? Number(Func<string, string?> environment, string name)
    {
        var text = environment(name);
        if (string.IsNullOrWhiteSpace(text)) return null;
        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{name} is '{InertText.Line(text)}', not a whole number.");
    }

    private static ShardSpec Checked(int index, int count, string source)
    {
        if (count is < 1 or > MaxCount) throw new ArgumentException($"The shard count must lie in [1, {MaxCount}] ({source}).");
        if (index < 0 || index >= count) throw new ArgumentException($"The shard index must lie in [0, {count - 1}] ({source}).");
        return new ShardSpec(index, count);
    }
}
