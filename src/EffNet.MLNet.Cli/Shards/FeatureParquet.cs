using System.Globalization;
using System.Text.Json.Serialization;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using Parquet.Serialization.Attributes;

namespace EffNet.MLNet.Cli.Shards;

/// <summary>
/// Features as Parquet: columns <c>path</c>, <c>label</c>, <c>content_sha256</c> (strings) and <c>vector</c>
/// (a list of float32, exactly <see cref="FeatureFileInfo.Dimension"/> long in every row), the file's
/// key-value metadata saying what computed them (<see cref="FeatureFileInfo"/>). Parquet has no
/// fixed-size list; Spark reads <c>vector</c> as <c>array&lt;float&gt;</c>, DuckDB as <c>FLOAT[]</c>, pyarrow
/// as <c>list&lt;float&gt;</c>, and the reader here refuses a row of any other length.
/// </summary>
internal static class FeatureParquet
{
    private const int RowGroupRows = 1024;
    // A file's vectors are held in memory when read: refuse what would not fit a stated budget before allocating.
    private const long MaxVectorFloats = 1L << 28;   // 1 GiB of floats: 100,000 images of B7's 2,560 features fit

    private static readonly DataField PathField = new("path", typeof(string), isNullable: false);
    private static readonly DataField LabelField = new("label", typeof(string), isNullable: false);
    private static readonly DataField HashField = new("content_sha256", typeof(string), isNullable: false);
    private static readonly DataField ElementField = new("element", typeof(float), isNullable: false);
    private static readonly ListField VectorField = new("vector", ElementField);
    private static readonly ParquetSchema Schema = new(PathField, LabelField, HashField, VectorField);

    /// <summary>Write <paramref name="rows"/> with <paramref name="info"/> as the file's metadata.</summary>
    public static void Write(Stream stream, FeatureFileInfo info, IReadOnlyList<FeatureRow> rows) =>
        WriteAsync(stream, info, rows).GetAwaiter().GetResult();

    private static async Task WriteAsync(Stream stream, FeatureFileInfo info, IReadOnlyList<FeatureRow> rows)
    {
        if (rows.Any(r => r.Vector.Length != info.Dimension))
            throw new ArgumentException($"Every vector must have {info.Dimension} entries.", nameof(rows));
        await using var writer = await ParquetWriter.CreateAsync(Schema, stream, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy });
        writer.CustomMetadata = info.ToMetadata();
        // A file with no rows still gets one (empty) row group, so every reader sees the schema and metadata.
        for (var start = 0; start < Math.Max(rows.Count, 1); start += RowGroupRows)
        {
            var part = rows.Skip(start).Take(RowGroupRows).ToList();
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(PathField, part.Select(r => r.Path).ToList());
            await group.WriteAsync(LabelField, part.Select(r => r.Label).ToList());
            await group.WriteAsync(HashField, part.Select(r => r.ContentSha256).ToList());
            // Written as nullable values: the list's definition levels come from them (none is null).
            var values = new float?[part.Count * info.Dimension];
            var levels = new int[values.Length];
            for (var i = 0; i < part.Count; i++)
            {
                for (var j = 0; j < info.Dimension; j++) values[i * info.Dimension + j] = part[i].Vector[j];
                // Repetition level 0 starts a row's list; 1 continues it.
                for (var j = 1; j < info.Dimension; j++) levels[i * info.Dimension + j] = 1;
            }
            await group.WriteAsync<float>(ElementField, (ReadOnlyMemory<float?>)values, levels);
        }
    }

    /// <summary>Read a features file written by <see cref="Write"/>.</summary>
    /// <exception cref="InvalidDataException">Not such a file, named with what is wrong.</exception>
    public static (FeatureFileInfo Info, List<FeatureRow> Rows) Read(string path)
    {
        try { return ReadAsync(path).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException and not FileNotFoundException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"'{path}' is not a readable features file: {InertText.Line(e.Message)}", e);
        }
    }

    /// <summary>Only the metadata of a features file (a finished shard is recognised without reading its vectors).</summary>
    public static FeatureFileInfo ReadInfo(string path)
    {
        try
        {
            return Task.Run(async () =>
            {
                await using var reader = await ParquetReader.CreateAsync(path);
                return FeatureFileInfo.FromMetadata(path, reader.CustomMetadata);
            }).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"'{path}' is not a readable features file: {InertText.Line(e.Message)}", e);
        }
    }

    private static async Task<(FeatureFileInfo, List<FeatureRow>)> ReadAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(stream, leaveStreamOpen: true);
        var info = FeatureFileInfo.FromMetadata(path, reader.CustomMetadata);
        var fields = reader.Schema.GetDataFields();
        if (fields.Length != 4 || fields[0].Name != "path" || fields[1].Name != "label" || fields[2].Name != "content_sha256" || fields[3].Name != "element")
            throw new InvalidDataException($"'{path}' has columns ({string.Join(", ", fields.Select(f => InertText.Line(f.Path.ToString())))}); expected path, label, content_sha256 and vector.");
        var total = reader.RowGroups.Sum(g => g.RowCount);
        if (total != info.Rows)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{path}' holds {total} rows where its metadata says {info.Rows}."));
        if (total * info.Dimension > MaxVectorFloats)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{path}' declares {total} rows of {info.Dimension} floats, more than the {MaxVectorFloats} floats a file may hold here."));
        var rows = new List<FeatureRow>((int)total);
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using (var group = reader.OpenRowGroupReader(g))
            {
                // Planned from the chunk's declared value count before any vector is read.
                var declared = group.GetMetadata(fields[3])?.MetaData?.NumValues ?? -1;
                if (declared != group.RowCount * info.Dimension)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{path}' has {declared} vector entries in row group {g} for {group.RowCount} rows of {info.Dimension}; every vector must have {info.Dimension} entries."));
            }
            stream.Position = 0;
            foreach (var row in (await ParquetSerializer.DeserializeAsync<StoredRow>(stream, rowGroupIndex: g)).Data)
            {
                if (row.Vector is not { } vector || vector.Count != info.Dimension)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{path}': row {rows.Count} has {row.Vector?.Count ?? 0} vector entries; every vector must have {info.Dimension}."));
                rows.Add(new FeatureRow(row.Path ?? "", row.Label ?? "", row.ContentSha256 ?? "", [.. vector]));
            }
        }
        return (info, rows);
    }

    /// <summary>A row as Parquet.Net's serializer maps it.</summary>
    private sealed class StoredRow
    {
        [JsonPropertyName("path"), ParquetRequired] public string? Path { get; set; }
        [JsonPropertyName("label"), ParquetRequired] public string? Label { get; set; }
        [JsonPropertyName("content_sha256"), ParquetRequired] public string? ContentSha256 { get; set; }
        [JsonPropertyName("vector"), ParquetListElementRequired] public List<float>? Vector { get; set; }
    }
}
