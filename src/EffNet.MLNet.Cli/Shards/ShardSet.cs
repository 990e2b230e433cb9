using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EffNet.MLNet.Cli.Shards;

/// <summary>
/// The union of a sharded featurization's outputs: every shard present once, all computed by one
/// backbone, each image once. Anything else is refused with the file(s) at fault named.
/// </summary>
internal sealed record ShardSet(FeatureFileInfo Info, IReadOnlyList<FeatureRow> Rows, IReadOnlyList<string> Files)
{
    /// <summary>
    /// Load <paramref name="path"/>: a folder of <c>*.parquet</c> shard files (hidden and temporary files of
    /// an interrupted shard are ignored), or one features file (a merged one, or a one-shard run).
    /// </summary>
    /// <exception cref="InvalidDataException">Shards missing or claimed twice, different backbones, an image in two files, a damaged file.</exception>
    public static ShardSet Load(string path)
    {
        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*.parquet").Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList()
            : File.Exists(path) ? [Path.GetFullPath(path)] : throw new ArgumentException($"'{path}' is neither a folder of features files nor a features file.");
        if (files.Count == 0) throw new InvalidDataException($"'{path}' holds no .parquet features files.");
        foreach (var f in files)
            if (FileKind.NotRegular(f) is { } kind) throw new InvalidDataException($"'{f}' {kind}.");
        var infos = files.Select(f => (File: f, Info: FeatureParquet.ReadInfo(f))).ToList();

        var first = infos[0];
        if (infos.FirstOrDefault(i => i.Info.Identity != first.Info.Identity) is { File: not null } other)
            throw new InvalidDataException($"Features from different backbones do not merge: '{first.File}' holds {first.Info.Identity}; '{other.File}' holds {other.Info.Identity}.");
        if (infos.FirstOrDefault(i => i.Info.Shard.Count != first.Info.Shard.Count) is { File: not null } split)
            throw new InvalidDataException($"'{first.File}' is shard {first.Info.Shard} and '{split.File}' shard {split.Info.Shard}: one run's shards all have the same N.");
        if (infos.GroupBy(i => i.Info.Shard.Index).FirstOrDefault(g => g.Count() > 1) is { } claimed)
            throw new InvalidDataException($"Shard {claimed.First().Info.Shard} is in more than one file: {string.Join(", ", claimed.Select(c => $"'{c.File}'"))}.");
        var count = first.Info.Shard.Count;
        var missing = Enumerable.Range(0, count).Except(infos.Select(i => i.Info.Shard.Index)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{path}' lacks {missing.Count} of {count} shards: {string.Join(", ", missing.Take(20).Select(m => new ShardSpec(m, count).FileName))}{(missing.Count > 20 ? ", …" : "")}; run those shards (a finished one is skipped) and merge again."));

        var rows = new List<FeatureRow>();
        var from = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (file, _) in infos.OrderBy(i => i.Info.Shard.Index))
        {
            var (info, part) = FeatureParquet.Read(file);
            foreach (var row in part)
            {
                if (!from.TryAdd(row.Path, file))
                    throw new InvalidDataException($"'{InertText.Line(row.Path)}' is in both '{from[row.Path]}' and '{file}'; each image must be in one shard only.");
                rows.Add(row);
            }
        }
        rows.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var merged = first.Info with { Shard = ShardSpec.Whole, Dataset = Combined(infos.OrderBy(i => i.Info.Shard.Index).Select(i => i.Info.Dataset)), Rows = rows.Count };
        return new ShardSet(count == 1 ? first.Info : merged, rows, files);
    }

    // One shard keeps its own fingerprint; N shards' fingerprints, in index order, are hashed together.
    private static string Combined(IEnumerable<string> fingerprints) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", fingerprints))));
}
