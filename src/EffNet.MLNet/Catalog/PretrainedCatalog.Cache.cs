namespace EffNet.MLNet.Catalog;

public sealed partial class PretrainedCatalog
{
    /// <summary>The catalog configured from <c>EFFNET_HOME</c>, <c>EFFNET_MIRROR</c> and <c>EFFNET_ALLOW_HTTP</c>.</summary>
    public static PretrainedCatalog Default => new(CacheDirectoryFromEnvironment(), Environment.GetEnvironmentVariable("EFFNET_MIRROR"))
    {
        AllowHttp = Environment.GetEnvironmentVariable("EFFNET_ALLOW_HTTP") is "1" or "true" or "TRUE" or "True",
    };

    /// <summary>Create a catalog over a cache directory, downloading from <paramref name="mirror"/> (a base address) when given.</summary>
    public PretrainedCatalog(string cacheDirectory, string? mirror = null)
    {
        CacheDirectory = cacheDirectory;
        Mirror = string.IsNullOrWhiteSpace(mirror) ? null : mirror.EndsWith('/') ? mirror : mirror + "/";
    }

    /// <summary>Where checkpoints are kept.</summary>
    public string CacheDirectory { get; }

    /// <summary>Base address replacing torchvision's, or null.</summary>
    public string? Mirror { get; }

    /// <summary>
    /// Whether plain <c>http://</c> addresses may be downloaded from (loopback included); false
    /// unless the caller opts in (<c>EFFNET_ALLOW_HTTP=1</c> for <see cref="Default"/>). Files are
    /// hash-checked either way, but over http only a pinned full SHA-256 stops a substitute.
    /// </summary>
    public bool AllowHttp { get; init; }

    /// <summary>How long a download may receive nothing (no headers, no bytes) before the attempt fails; 60 s by default.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts per download, each resuming the partial file; 4 by default.</summary>
    public int Attempts { get; init; } = 4;

    /// <summary>Wait before the second attempt, doubled before each later one (at most 30 s); 1 s by default.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>EFFNET_HOME</c>, else <c>~/.cache/effnet</c>.</summary>
    public static string CacheDirectoryFromEnvironment() =>
        Environment.GetEnvironmentVariable("EFFNET_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "effnet");

    /// <summary>The address a variant's weights are fetched from.</summary>
    public Uri AddressOf(PretrainedWeights entry) => Mirror is null ? entry.Url : new Uri(new Uri(Mirror), entry.FileName);

    /// <summary>Path of the verified checkpoint in the cache, downloading it first if needed.</summary>
    /// <param name="variant"><c>b0</c>…<c>b7</c>.</param>
    /// <param name="progress">Receives the bytes downloaded so far (nothing when the file is already in the cache).</param>
    /// <param name="cancellationToken">Stops the download; the bytes received are kept in <c>FILE.partial</c> and the next call resumes them.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public string EnsureWeights(string variant, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var entry = Find(variant) ?? throw new ArgumentException(
            $"No pretrained weights are published for EfficientNet '{variant}'; {OptionWording.NoWeightsRemedy}.");
        return new WeightsDownloader(this).Ensure(entry, progress, cancellationToken);
    }

    /// <summary>Whether a variant's file is already in the cache (verified or not): <see cref="EnsureWeights"/> will not download it.</summary>
    internal bool HasFile(PretrainedWeights entry) => File.Exists(Path.Combine(CacheDirectory, entry.FileName));
}
