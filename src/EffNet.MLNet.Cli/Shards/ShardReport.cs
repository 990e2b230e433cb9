using System.Text.Json;
using System.Text.Json.Serialization;

namespace EffNet.MLNet.Cli.Shards;

/// <summary>What one shard's run did, written beside its features as <c>part-…report.json</c>.</summary>
internal sealed record ShardReport(
    string Shard, int Images, int Rows, int Featurized, int CacheHits, double Seconds, double ImagesPerSecond,
    string FeatureIdentity, IReadOnlyList<ShardReport.Skipped> BadImages)
{
    /// <summary>An image left out, with why.</summary>
    public sealed record Skipped(string Path, string Reason);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public void Save(string path) => AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, this, Json));
}
