namespace EffNet.MLNet.Cli.Shards;

/// <summary>One image's row in a features file.</summary>
/// <param name="Path">The image's path relative to the dataset's root ('/' separators; see <see cref="ShardSpec.RelativeKey"/>).</param>
/// <param name="Label">Its label, empty when unlabelled.</param>
/// <param name="ContentSha256">SHA-256 of the file's bytes, lower-case hex.</param>
/// <param name="Vector">The backbone's features.</param>
internal sealed record FeatureRow(string Path, string Label, string ContentSha256, float[] Vector);
