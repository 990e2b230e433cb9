using System.Security.Cryptography;
using System.Text;

namespace EffNet.MLNet.Training;

/// <summary>
/// Features already computed, keyed by the image's content hash, one store per backbone
/// identity (variant, weights hash, preprocessing, pooling): retraining after adding images, or
/// training several trainers, featurizes each image once. The store is an append-only file of
/// (SHA-256, vector) records under <c>EFFNET_HOME/features/</c>; a torn last record (a crash
/// mid-write) is ignored.
/// </summary>
public sealed class FeatureCache
{
    private const int HashBytes = 32;
    private readonly string _file;
    private readonly int _dimension;
    private readonly Dictionary<string, float[]> _entries = new(StringComparer.Ordinal);

    /// <summary>Open (or create) the store for <paramref name="backboneIdentity"/> under <paramref name="root"/>.</summary>
    public FeatureCache(string root, string backboneIdentity, int dimension)
    {
        _dimension = dimension;
        Identity = backboneIdentity;
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(backboneIdentity)))[..16];
        var dir = Path.Combine(root, key);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "identity.txt"), backboneIdentity);
        _file = Path.Combine(dir, $"features-{dimension}.bin");
        Load();
    }

    /// <summary>The default root: <c>EFFNET_HOME/features</c>.</summary>
    public static string DefaultRoot => Path.Combine(Catalog.PretrainedCatalog.CacheDirectoryFromEnvironment(), "features");

    /// <summary>What the stored features were computed by (see <see cref="EfficientNetFeaturizerTransformer.FeatureIdentity"/>).</summary>
    public string Identity { get; }

    /// <summary>Vectors held.</summary>
    public int Count => _entries.Count;

    /// <summary>SHA-256 of a file's content, as lower-case hex.</summary>
    public static string ContentHash(string path) => FileHash.Sha256(path);

    /// <summary>The cached vector for a content hash, if any.</summary>
    public bool TryGet(string contentHash, out float[] features) => _entries.TryGetValue(contentHash, out features!);

    /// <summary>Add vectors and append them to the store.</summary>
    public void AddRange(IEnumerable<(string ContentHash, float[] Features)> items)
    {
        using var stream = new FileStream(_file, FileMode.Append, FileAccess.Write, FileShare.Read);
        var record = new byte[HashBytes + _dimension * sizeof(float)];
        foreach (var (hash, features) in items)
        {
            if (features.Length != _dimension || !_entries.TryAdd(hash, features)) continue;
            Convert.FromHexString(hash).CopyTo(record, 0);
            Buffer.BlockCopy(features, 0, record, HashBytes, _dimension * sizeof(float));
            stream.Write(record);
        }
    }

    private void Load()
    {
        if (!File.Exists(_file)) return;
        var bytes = File.ReadAllBytes(_file);
        var size = HashBytes + _dimension * sizeof(float);
        for (var at = 0; at + size <= bytes.Length; at += size)
        {
            var vector = new float[_dimension];
            Buffer.BlockCopy(bytes, at + HashBytes, vector, 0, _dimension * sizeof(float));
            _entries[Convert.ToHexStringLower(bytes.AsSpan(at, HashBytes))] = vector;
        }
    }
}
