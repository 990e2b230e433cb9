using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace EffNet.MLNet.Tests;

/// <summary>What a load run saw: answers by kind of client, latencies of the good requests, and the memory the process took.</summary>
internal sealed class LoadReport
{
    public int GoodOk;
    public int GoodBusy;
    public int BombsRefused;
    public int StalledCut;
    public int StalledBusy;
    public List<string> Unexpected { get; } = [];
    public List<double> GoodMilliseconds { get; } = [];
    public long PeakGrowthBytes { get; set; }
    public long PeakDuringLoadBytes { get; set; }
    public long PeakWorkingSetBytes { get; set; }

    public double Percentile(double p)
    {
        lock (GoodMilliseconds)
        {
            if (GoodMilliseconds.Count == 0) return double.NaN;
            var sorted = GoodMilliseconds.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
        }
    }

    public void Note(string what)
    {
        lock (Unexpected) Unexpected.Add(what);
    }
}

/// <summary>
/// Hostile traffic against an image-classifier endpoint (POST <c>/v2/classify</c>) for a fixed time: clients
/// posting good photos, clients posting decompression bombs, and uploads that send 8 MiB of a declared
/// 32 MiB and then stall. Good requests must get 200 or 503, bombs 400 or 503, stalled uploads 408 or 503;
/// anything else (another status, a dropped connection, no answer in 20 s) is recorded as unexpected.
/// Shared by the test suite (short run) and the benchmarks (long run).
/// </summary>
internal static class ServingLoad
{
    private const int StalledDeclared = 32 << 20;
    private const int StalledSent = 8 << 20;

    public static async Task<LoadReport> Run(Uri server, IReadOnlyList<byte[]> photos, IReadOnlyList<byte[]> bombs, TimeSpan duration,
        int stalledUploads, int goodClients = 6, int bombClients = 2)
    {
        var report = new LoadReport();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = Environment.WorkingSet;
        using var stop = new CancellationTokenSource(duration);
        var sampler = Task.Run(async () =>
        {
            var peak = baseline;
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, Environment.WorkingSet);
                try { await Task.Delay(50, stop.Token); } catch (OperationCanceledException) { }
            }
            return peak;
        });
        using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        var clients = new List<Task>();
        for (var c = 0; c < goodClients; c++)
        {
            var seed = c;
            clients.Add(Task.Run(() => Post(http, photos, seed, stop.Token, (status, ms) =>
            {
                if (status == HttpStatusCode.OK) { Interlocked.Increment(ref report.GoodOk); lock (report.GoodMilliseconds) report.GoodMilliseconds.Add(ms); }
                else if (status == HttpStatusCode.ServiceUnavailable) Interlocked.Increment(ref report.GoodBusy);
                else report.Note($"good photo: {status}");
            })));
        }
        for (var c = 0; c < bombClients; c++)
        {
            var seed = c;
            clients.Add(Task.Run(() => Post(http, bombs, seed, stop.Token, (status, _) =>
            {
                if (status is HttpStatusCode.BadRequest or HttpStatusCode.ServiceUnavailable) Interlocked.Increment(ref report.BombsRefused);
                else report.Note($"bomb: {status}");
            })));
        }
        // Stalled uploads arrive spread over the first half of the run.
        var spacing = duration / 2 / Math.Max(1, stalledUploads);
        for (var s = 0; s < stalledUploads; s++)
        {
            var delay = spacing * s;
            clients.Add(Task.Run(async () =>
            {
                await Task.Delay(delay);
                var status = await Stall(server);
                if (status == 408) Interlocked.Increment(ref report.StalledCut);
                else if (status == 503) Interlocked.Increment(ref report.StalledBusy);
                else report.Note($"stalled upload: {(status < 0 ? "no answer" : status.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
            }));
        }
        await Task.WhenAll(clients);
        var peakDuring = await sampler;
        report.PeakDuringLoadBytes = peakDuring;
        report.PeakGrowthBytes = peakDuring - baseline;
        report.PeakWorkingSetBytes = Process.GetCurrentProcess().PeakWorkingSet64;
        return report;
    }

    private static async Task Post(HttpClient http, IReadOnlyList<byte[]> bodies, int seed, CancellationToken stop, Action<HttpStatusCode, double> answered)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            var content = new ByteArrayContent(bodies[random.Next(bodies.Count)]);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            var clock = Stopwatch.StartNew();
            HttpResponseMessage response;
            try { response = await http.PostAsync("/v2/classify", content); }
            catch (HttpRequestException)
            {
                answered(0, 0);   // recorded as unexpected: the connection failed
                continue;
            }
            catch (TaskCanceledException) when (!stop.IsCancellationRequested)
            {
                answered(HttpStatusCode.RequestTimeout, 0);   // no answer in 30 s: unexpected
                continue;
            }
            catch (TaskCanceledException) { return; }
            answered(response.StatusCode, clock.Elapsed.TotalMilliseconds);
            response.Dispose();
        }
    }

    // Send the headers of a 32 MiB upload and 8 MiB of it, then nothing; the status the server answers with, or -1.
    private static async Task<int> Stall(Uri server)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        var head = $"POST /v2/classify HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: image/jpeg\r\nContent-Length: {StalledDeclared}\r\n\r\n";
        using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), sending.Token);
            var block = new byte[64 * 1024];
            for (var sent = 0; sent < StalledSent; sent += block.Length) await stream.WriteAsync(block, sending.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException) { }   // the server stopped reading: its answer follows
        using var waiting = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var answer = new byte[256];
        try
        {
            var read = await stream.ReadAsync(answer, waiting.Token);
            var line = Encoding.ASCII.GetString(answer, 0, read);
            return line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(9, 3), out var status) ? status : -1;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException) { return -1; }
    }
}
