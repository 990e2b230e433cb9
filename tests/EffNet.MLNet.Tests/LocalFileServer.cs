using System.Net;
using System.Net.Sockets;

namespace EffNet.MLNet.Tests;

/// <summary>
/// A tiny HTTP server on 127.0.0.1 serving in-memory files, with range requests, an optional
/// cut-off (the connection drops after N bytes), stalls (it goes silent before answering or
/// after N bytes, until disposed), failures (503 for the first N requests) and throttling; it
/// records every request.
/// </summary>
internal sealed class LocalFileServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly Task _loop;
    private readonly CancellationTokenSource _stopping = new();
    private int _failuresLeft;

    public LocalFileServer()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public int Port { get; }

    public string BaseAddress => $"http://127.0.0.1:{Port}/";

    public List<(string Path, string? Range)> Requests { get; } = [];

    /// <summary>When each request arrived, from the server's start.</summary>
    public List<TimeSpan> RequestTimes { get; } = [];

    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>Drop the connection after this many body bytes of the next full response.</summary>
    public long? CutAfter { get; set; }

    /// <summary>Go silent after this many body bytes of the next full or partial response.</summary>
    public long? StallAfter { get; set; }

    /// <summary>Go silent without answering the next request.</summary>
    public bool StallBeforeHeaders { get; set; }

    /// <summary>Answer 503 to this many requests before serving normally.</summary>
    public int FailFirst { get => _failuresLeft; set => _failuresLeft = value; }

    /// <summary>Pause between 64 KiB chunks.</summary>
    public TimeSpan Throttle { get; set; } = TimeSpan.Zero;

    public void Add(string name, byte[] content) => _files[name] = content;

    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(() => Handle(context));
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        var name = context.Request.Url!.AbsolutePath.TrimStart('/');
        var range = context.Request.Headers["Range"];
        lock (Requests)
        {
            Requests.Add((name, range));
            RequestTimes.Add(_clock.Elapsed);
        }
        var response = context.Response;
        try
        {
            if (StallBeforeHeaders)
            {
                StallBeforeHeaders = false;
                await Silence();
                return;
            }
            if (Interlocked.Decrement(ref _failuresLeft) >= 0)
            {
                response.StatusCode = 503;
                response.Close();
                return;
            }
            if (!_files.TryGetValue(name, out var content))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            long start = 0;
            if (range is not null && range.StartsWith("bytes=") && range.EndsWith('-'))
            {
                start = long.Parse(range[6..^1]);
                if (start >= content.Length)
                {
                    response.StatusCode = 416;
                    response.Close();
                    return;
                }
                response.StatusCode = 206;
                response.AddHeader("Content-Range", $"bytes {start}-{content.Length - 1}/{content.Length}");
            }
            response.ContentLength64 = content.Length - start;
            var limit = CutAfter;
            CutAfter = null;
            var stallAt = StallAfter;
            StallAfter = null;
            var sent = 0L;
            for (var at = start; at < content.Length; at += 65536)
            {
                var count = (int)Math.Min(65536, content.Length - at);
                if (stallAt is { } st && sent + count > st)
                {
                    await response.OutputStream.WriteAsync(content.AsMemory((int)at, (int)(st - sent)));
                    await response.OutputStream.FlushAsync();
                    await Silence();
                    return;
                }
                if (limit is { } l && sent + count > l)
                {
                    await response.OutputStream.WriteAsync(content.AsMemory((int)at, (int)(l - sent)));
                    await response.OutputStream.FlushAsync();
                    response.Abort();
                    return;
                }
                await response.OutputStream.WriteAsync(content.AsMemory((int)at, count));
                sent += count;
                if (Throttle > TimeSpan.Zero) await Task.Delay(Throttle);
            }
            response.Close();
        }
        catch (Exception)
        {
            try { response.Abort(); } catch (ObjectDisposedException) { }
        }
    }

    // Hold the connection open and send nothing until the test ends (or 15 s, so a client without a stall timeout fails instead of hanging the run).
    private async Task Silence()
    {
        try { await Task.Delay(TimeSpan.FromSeconds(15), _stopping.Token); }
        catch (OperationCanceledException) { }
        throw new OperationCanceledException("the server is stopping");
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
