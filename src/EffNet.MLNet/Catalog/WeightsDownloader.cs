using System.Net;
using System.Net.Http.Headers;

namespace EffNet.MLNet.Catalog;

/// <summary>
/// Fetches one checkpoint into the cache: resumes a partial file with an HTTP range request,
/// verifies the SHA-256 before the file is ever used, and holds a lock file so two processes
/// never write the same download.
/// </summary>
internal sealed class WeightsDownloader
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly PretrainedCatalog _catalog;

    public WeightsDownloader(PretrainedCatalog catalog) => _catalog = catalog;

    /// <summary>How long to wait for another process's download before giving up.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public string Ensure(PretrainedWeights entry, IProgress<DownloadProgress>? progress = null)
    {
        Directory.CreateDirectory(_catalog.CacheDirectory);
        var target = Path.Combine(_catalog.CacheDirectory, entry.FileName);
        if (IsVerified(target, entry)) return target;

        using var lockFile = AcquireLock(target + ".lock");
        if (IsVerified(target, entry)) return target; // another process finished it while we waited
        if (File.Exists(target))
        {
            // Placed by hand (the offline route): verify it before first use.
            var hash = FileHash.Sha256(target);
            if (!hash.StartsWith(entry.Sha256Prefix, StringComparison.Ordinal))
                throw new WeightsUnavailableException(
                    $"'{target}' has SHA-256 {hash}, but {entry.FileName} must start with {entry.Sha256Prefix}; it is not the published file. Delete it or replace it with the right one.");
            MarkVerified(target, hash);
            return target;
        }

        var partial = target + ".partial";
        var address = _catalog.AddressOf(entry);
        try
        {
            Download(address, partial, entry.FileName, progress);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            throw new WeightsUnavailableException(
                $"Could not download the EfficientNet {entry.Variant} weights from {address} ({ex.Message}). " +
                $"Download {entry.FileName} on a connected machine and place it at '{target}', or set EFFNET_MIRROR to a base address that serves {entry.FileName}, " +
                "or pass a checkpoint (--weights FILE) or --random-init.", ex);
        }

        var actual = FileHash.Sha256(partial);
        if (!actual.StartsWith(entry.Sha256Prefix, StringComparison.Ordinal))
        {
            File.Delete(partial);
            throw new WeightsUnavailableException(
                $"The download of {entry.FileName} from {address} has SHA-256 {actual}, which does not start with the published {entry.Sha256Prefix}; the file was refused and removed.");
        }
        File.Move(partial, target, overwrite: true);
        MarkVerified(target, actual);
        return target;
    }

    private static void Download(Uri address, string partial, string fileName, IProgress<DownloadProgress>? progress)
    {
        var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = Http.Send(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The partial file is already complete (or longer than the file): start over to be safe.
            File.Delete(partial);
            Download(address, partial, fileName, progress);
            return;
        }
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"the server answered {(int)response.StatusCode} {response.ReasonPhrase}");
        var resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed) have = 0;
        long? total = response.Content.Headers.ContentLength is { } length ? length + have : null;

        using var source = response.Content.ReadAsStream();
        using var sink = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None);
        var buffer = new byte[1 << 16];
        int read;
        var lastReport = Environment.TickCount64;
        while ((read = source.Read(buffer)) > 0)
        {
            sink.Write(buffer, 0, read);
            have += read;
            if (progress is not null && Environment.TickCount64 - lastReport > 100)
            {
                progress.Report(new DownloadProgress(fileName, have, total));
                lastReport = Environment.TickCount64;
            }
        }
        progress?.Report(new DownloadProgress(fileName, have, total));
        if (total is { } expected && have != expected)
            throw new IOException($"the connection closed after {have} of {expected} bytes; run again to resume");
    }

    private FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }

    // A sidecar records the verified hash with the file's size and time, so later uses skip re-hashing.
    private static bool IsVerified(string target, PretrainedWeights entry)
    {
        var sidecar = target + ".sha256";
        if (!File.Exists(target) || !File.Exists(sidecar)) return false;
        var info = new FileInfo(target);
        var parts = File.ReadAllText(sidecar).Split(' ');
        return parts.Length == 3 && parts[0].StartsWith(entry.Sha256Prefix, StringComparison.Ordinal)
            && parts[1] == info.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)
            && parts[2] == info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void MarkVerified(string target, string hash)
    {
        var info = new FileInfo(target);
        File.WriteAllText(target + ".sha256", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{hash} {info.Length} {info.LastWriteTimeUtc.Ticks}"));
    }
}
