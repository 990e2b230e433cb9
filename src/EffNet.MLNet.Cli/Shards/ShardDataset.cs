using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Cli.Shards;

/// <summary>The images of one shard, each with its key (the path relative to the dataset's root).</summary>
internal sealed record ShardDataset(string Root, IReadOnlyList<(string Key, LabeledImage Image)> Images)
{
    /// <summary>A folder's root is itself; a manifest's is its folder, which its relative paths start from.</summary>
    public static string RootOf(string data)
    {
        var full = Path.GetFullPath(data);
        return Directory.Exists(full) ? full : Path.GetDirectoryName(full)!;
    }

    /// <summary>The images of <paramref name="shard"/> among <paramref name="all"/>, in key order.</summary>
    /// <exception cref="InvalidDataException">Two entries have one key (a manifest listing a file twice).</exception>
    public static ShardDataset Select(string data, IReadOnlyList<LabeledImage> all, ShardSpec shard)
    {
        var root = RootOf(data);
        var keyed = all.Select(i => (Key: ShardSpec.RelativeKey(root, i.ImagePath), Image: i)).ToList();
        if (keyed.GroupBy(k => k.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InvalidDataException($"'{data}' lists '{InertText.Line(twice.Key)}' {twice.Count()} times; each image may appear once in a dataset that is sharded.");
        return new ShardDataset(root, [.. keyed.Where(k => shard.Owns(k.Key)).OrderBy(k => k.Key, StringComparer.Ordinal)]);
    }

    /// <summary>
    /// SHA-256 over the shard's (key, label, byte size) in key order: a finished shard is skipped only when
    /// this still holds (an image edited in place to the same size is not noticed; --force redoes the shard).
    /// </summary>
    public string Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, image) in Images)
        {
            var size = File.Exists(image.ImagePath) ? new FileInfo(image.ImagePath).Length : -1;
            hash.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{key}\0{image.Label}\0{size}\n")));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
