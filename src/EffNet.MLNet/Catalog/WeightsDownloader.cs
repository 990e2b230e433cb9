using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace EffNet.MLNet.Catalog;

/// <summary>
/// Fetches one checkpoint into the cache over https (plain http only when the catalog allows
/// it): fails an attempt that receives nothing for <see cref="PretrainedCatalog.StallTimeout"/>,
/// retries with doubling waits, resumes a partial file with an HTTP range request, checks the
/// SHA-256 (published prefix and any pinned full hash) before the file is ever used, and holds
/// a lock file so two processes never write the same download.
/// </summary>
internal sealed class WeightsDownloader
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15) })
    {
        // A large file on a slow link may take long; a stalled one is caught by the catalog's stall timeout instead.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly PretrainedCatalog _catalog;

    public WeightsDownloader(PretrainedCatalog catalog) => _catalog = catalog;

    /// <summary>How long to wait for another process's download before giving up.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public string Ensure(PretrainedWeights entry, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(_catalog.CacheDirectory);
        var target = Path.Combine(_catalog.CacheDirectory, entry.FileName);
        var pins = HashPins.For(entry, target);
        if (IsVerified(target, pins)) return target;

        using var lockFile = AcquireLock(target + ".lock", cancellationToken);
        if (IsVerified(target, pins)) return target; // another process finished it while we waited
        if (File.Exists(target))
        {
            // Placed by hand (the offline route): verify it before first use.
            var hash = FileHash.Sha256(target);
            if (pins.Problem(hash) is { } problem)
                throw new WeightsUnavailableException(
                    $"'{target}' {problem}; it is not the published file {entry.FileName}. Delete it or replace it with the right one.");
            MarkVerified(target, hash);
            return target;
        }

        var address = _catalog.AddressOf(entry);
        CheckScheme(entry, address, target);
        var partial = target + ".partial";
        try
        {
            DownloadWithRetries(address, partial, entry.FileName, progress, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException)
        {
            throw new WeightsUnavailableException(
                $"Could not download the EfficientNet {entry.Variant} weights from {address} ({ex.Message}). " +
                (File.Exists(partial) ? $"The {new FileInfo(partial).Length:N0} bytes received are kept in '{partial}'; running again resumes from there. " : "") +
                $"Or download {entry.FileName} on a connected machine and place it at '{target}', or set EFFNET_MIRROR to a base address that serves {entry.FileName}, " +
                $"or {OptionWording.NoWeightsRemedy}.");   // no inner exception: an app's crash report is this one message, not a socket stack
        }

        var actual = FileHash.Sha256(partial);
        if (pins.Problem(actual) is { } refused)
        {
            File.Delete(partial);
            throw new WeightsUnavailableException(
                $"The download of {entry.FileName} from {address} {refused}; the file was refused and removed. " +
                (pins.AnyFullHash ? $"If the pin is wrong, correct or delete '{HashPins.PinFile(target)}'." : "Check the mirror (EFFNET_MIRROR) serves the published file."));
        }
        File.Move(partial, target, overwrite: true);
        MarkVerified(target, actual);
        return target;
    }

    private void CheckScheme(PretrainedWeights entry, Uri address, string target)
    {
        if (address.Scheme == Uri.UriSchemeHttps) return;
        if (address.Scheme == Uri.UriSchemeHttp && _catalog.AllowHttp) return;
        var why = address.Scheme == Uri.UriSchemeHttp
            ? "it is plain http, which anyone on the network path can alter, and without a pinned full SHA-256 the file is checked only against the 8-hex-digit prefix in its name"
            : $"only https (or, when allowed, http) addresses are downloaded from, not {address.Scheme}";
        throw new WeightsUnavailableException(
            $"Refusing to download {entry.FileName} from {address}: {why}. Use an https:// address in EFFNET_MIRROR; " +
            "or, if you trust the network path (a mirror on this machine or your LAN), opt in with EFFNET_ALLOW_HTTP=1 (PretrainedCatalog.AllowHttp) and pin the file's SHA-256 " +
            $"in '{HashPins.PinFile(target)}'; or place the file at '{target}' yourself.");
    }

    private void DownloadWithRetries(Uri address, string partial, string fileName, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var delay = _catalog.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                DownloadAsync(address, partial, fileName, progress, cancellationToken).GetAwaiter().GetResult();
                return;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                if (attempt >= _catalog.Attempts)
                    throw ex switch
                    {
                        HttpRequestException h => new HttpRequestException($"{h.Message}; gave up after {attempt} attempts", h, h.StatusCode),
                        TimeoutException => new TimeoutException($"{ex.Message}; gave up after {attempt} attempts", ex),
                        _ => new IOException($"{ex.Message}; gave up after {attempt} attempts", ex),
                    };
                if (cancellationToken.WaitHandle.WaitOne(delay)) cancellationToken.ThrowIfCancellationRequested();
                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
            }
        }
    }

    // Worth another attempt: dropped connections, stalls, and server-side trouble; not a 404 or 403.
    private static bool IsTransient(Exception ex) => ex switch
    {
        HttpRequestException { StatusCode: { } code } => (int)code >= 500 || code is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        HttpRequestException or IOException or TimeoutException => true,
        _ => false,
    };

    private async Task DownloadAsync(Uri address, string partial, string fileName, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var stall = _catalog.StallTimeout;
        // The caller's token stops the download; the bytes received stay in the partial file for the next run.
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quiet.CancelAfter(stall);
        TimeoutException Stalled(string what) => new($"the server sent nothing for {stall.TotalSeconds:0.#} s {what}");

        var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        HttpResponseMessage response;
        try { response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, quiet.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (quiet.IsCancellationRequested && !cancellationToken.IsCancellationRequested) { throw Stalled("before answering"); }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The partial file is already complete (or longer than the file): start over to be safe.
                File.Delete(partial);
                throw new IOException("the server refused to resume the partial file, which was removed");
            }
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"the server answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
            var resumed = response.StatusCode == HttpStatusCode.PartialContent;
            if (!resumed) have = 0;
            long? total = response.Content.Headers.ContentLength is { } length ? length + have : null;

            using var source = await response.Content.ReadAsStreamAsync(quiet.Token).ConfigureAwait(false);
            using var sink = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None);
            var buffer = new byte[1 << 16];
            var lastReport = Environment.TickCount64;
            while (true)
            {
                quiet.CancelAfter(stall);
                int read;
                try { read = await source.ReadAsync(buffer, quiet.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (quiet.IsCancellationRequested && !cancellationToken.IsCancellationRequested) { throw Stalled($"after {have:N0} bytes"); }
                if (read == 0) break;
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
                throw new IOException($"the connection closed after {have:N0} of {expected:N0} bytes");
        }
    }

    private FileStream AcquireLock(string path, CancellationToken cancellationToken)
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
                if (cancellationToken.WaitHandle.WaitOne(200)) cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    private static string MarkerFile(string target) => target + ".verified";

    // A marker records the verified hash with the file's size and time, so later uses skip re-hashing;
    // the recorded hash is checked against the pins again, so a pin added later still applies.
    private static bool IsVerified(string target, HashPins pins)
    {
        var marker = MarkerFile(target);
        if (!File.Exists(target) || !File.Exists(marker)) return false;
        var info = new FileInfo(target);
        var parts = File.ReadAllText(marker).Split(' ');
        return parts.Length == 3 && pins.Problem(parts[0]) is null
            && parts[1] == info.Length.ToString(CultureInfo.InvariantCulture)
            && parts[2] == info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture);
    }

    private static void MarkVerified(string target, string hash)
    {
        var info = new FileInfo(target);
        File.WriteAllText(MarkerFile(target), string.Create(CultureInfo.InvariantCulture, $"{hash} {info.Length} {info.LastWriteTimeUtc.Ticks}"));
    }
}
