using EffNet.MLNet.Catalog;

namespace EffNet.MLNet;

/// <summary>Download progress as log lines: one per tenth of the file (per 16 MiB when the size is unknown), and the end.</summary>
internal sealed class DownloadLog(FeaturizerContext context) : IProgress<DownloadProgress>
{
    private const long UnknownSizeStep = 16L << 20;
    private long _nextBytes;

    public void Report(DownloadProgress value)
    {
        if (value.Bytes < _nextBytes && value.Bytes != value.TotalBytes) return;
        var step = value.TotalBytes is { } total and > 0 ? Math.Max(1, total / 10) : UnknownSizeStep;
        _nextBytes = (value.Bytes / step + 1) * step;
        context.Info(value.TotalBytes is { } size
            ? $"Downloading {value.FileName}: {value.Bytes:N0} of {size:N0} bytes ({100.0 * value.Bytes / Math.Max(1, size):0}%)"
            : $"Downloading {value.FileName}: {value.Bytes:N0} bytes");
    }

    /// <summary>The cache's file for <paramref name="variant"/>, downloaded first if needed, saying which happened.</summary>
    public static string EnsureWeights(PretrainedCatalog catalog, string variant, FeaturizerContext context) =>
        PretrainedCatalog.Find(variant) is { } entry
            ? EnsureWeights(catalog, entry, context)
            : catalog.EnsureWeights(variant, cancellationToken: context.CancellationToken); // throws: nothing is published for it

    /// <summary>The cache's file for <paramref name="entry"/>, downloaded first if needed, saying which happened.</summary>
    public static string EnsureWeights(PretrainedCatalog catalog, PretrainedWeights entry, FeaturizerContext context)
    {
        context.Info(catalog.HasFile(entry)
            ? $"Pretrained EfficientNet {entry.Variant} weights: {entry.FileName}, found in the cache {catalog.CacheDirectory}"
            : $"Pretrained EfficientNet {entry.Variant} weights: downloading {entry.FileName} from {catalog.AddressOf(entry)} into {catalog.CacheDirectory}");
        var path = new WeightsDownloader(catalog).Ensure(entry, new DownloadLog(context), context.CancellationToken);
        context.Info($"Pretrained EfficientNet {entry.Variant} weights verified: {path}");
        return path;
    }
}
