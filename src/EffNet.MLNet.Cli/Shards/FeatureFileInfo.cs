using System.Globalization;

namespace EffNet.MLNet.Cli.Shards;

/// <summary>
/// What a features file says about itself in its Parquet key-value metadata: what computed the
/// vectors (the feature cache's identity, and its parts spelled out for people and other tools), which
/// shard of which dataset it is, and that it was written to the end.
/// </summary>
/// <param name="Identity">The featurizer's <see cref="EfficientNetFeaturizerTransformer.FeatureIdentity"/>: files merge only when equal.</param>
/// <param name="Variant">The backbone variant.</param>
/// <param name="WeightsSha256">SHA-256 of the weights (or the random seed's name).</param>
/// <param name="Resolution">Side of the square the network sees.</param>
/// <param name="Preprocessing">fast or torchvision.</param>
/// <param name="Precision">fp32 or int8.</param>
/// <param name="Dimension">Length of every vector.</param>
/// <param name="Shard">Which shard of how many.</param>
/// <param name="Dataset">SHA-256 over the shard's sorted (relative path, label, size) triples: a finished shard is skipped only for the same images.</param>
/// <param name="Rows">Rows in the file.</param>
internal sealed record FeatureFileInfo(
    string Identity, string Variant, string WeightsSha256, int Resolution, string Preprocessing, string Precision, int Dimension,
    ShardSpec Shard, string Dataset, long Rows)
{
    /// <summary>The format written here; a reader refuses any other.</summary>
    public const string Format = "effnet-features-v1";

    private const string Prefix = "effnet.";
    private const int MaxDimension = 1 << 16;

    /// <summary>The key-value pairs written into the file.</summary>
    public Dictionary<string, string> ToMetadata() => new()
    {
        [Prefix + "format"] = Format,
        [Prefix + "complete"] = "true",
        [Prefix + "feature_identity"] = Identity,
        [Prefix + "variant"] = Variant,
        [Prefix + "weights_sha256"] = WeightsSha256,
        [Prefix + "resolution"] = Resolution.ToString(CultureInfo.InvariantCulture),
        [Prefix + "preprocessing"] = Preprocessing,
        [Prefix + "precision"] = Precision,
        [Prefix + "dimension"] = Dimension.ToString(CultureInfo.InvariantCulture),
        [Prefix + "shard_index"] = Shard.Index.ToString(CultureInfo.InvariantCulture),
        [Prefix + "shard_count"] = Shard.Count.ToString(CultureInfo.InvariantCulture),
        [Prefix + "dataset_sha256"] = Dataset,
        [Prefix + "rows"] = Rows.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Read and check the metadata of the file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">A key is missing or out of range, named with the file.</exception>
    public static FeatureFileInfo FromMetadata(string path, IReadOnlyDictionary<string, string> metadata)
    {
        string Get(string key) => metadata.TryGetValue(Prefix + key, out var v) && !string.IsNullOrEmpty(v)
            ? v
            : throw new InvalidDataException($"'{path}' has no '{Prefix}{key}' in its metadata; it was not written by effnet featurize (or not to the end).");
        int Int(string key, int min, int max) =>
            int.TryParse(Get(key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                ? v
                : throw new InvalidDataException($"'{path}': metadata '{Prefix}{key}' is '{InertText.Line(Get(key))}', not a whole number in [{min}, {max}].");
        if (Get("format") != Format) throw new InvalidDataException($"'{path}' is in format '{InertText.Line(Get("format"))}'; this effnet reads {Format}.");
        if (Get("complete") != "true") throw new InvalidDataException($"'{path}' is not marked complete.");
        var count = Int("shard_count", 1, ShardSpec.MaxCount);
        var index = Int("shard_index", 0, count - 1);
        return new FeatureFileInfo(Get("feature_identity"), Get("variant"), Get("weights_sha256"), Int("resolution", 1, MaxDimension),
            Get("preprocessing"), Get("precision"), Int("dimension", 1, MaxDimension), new ShardSpec(index, count), Get("dataset_sha256"),
            Int("rows", 0, int.MaxValue));
    }

    /// <summary>The metadata of features computed by <paramref name="featurizer"/> for <paramref name="shard"/>.</summary>
    public static FeatureFileInfo For(EfficientNetFeaturizerTransformer featurizer, ShardSpec shard, string dataset, long rows)
    {
        var b = featurizer.Backbone;
        return new FeatureFileInfo(featurizer.FeatureIdentity, b.Variant, b.WeightsSha256, b.Resolution,
            b.Preprocessing == EffNet.MLNet.Preprocessing.Fast ? "fast" : "torchvision", b.Precision == Onnx.Precision.Float32 ? "fp32" : "int8",
            b.FeatureDimension, shard, dataset, rows);
    }
}
