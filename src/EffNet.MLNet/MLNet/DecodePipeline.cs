using System.Collections.Concurrent;
using System.Threading.Channels;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet;

/// <summary>
/// A bounded, ordered pipeline from image paths to features. A background task cuts the paths into
/// batches and starts one task per batch, which decodes its images into a pooled input buffer and
/// runs ONNX Runtime on them; up to <see cref="FeatureSession.ConcurrentRuns"/> runs go at once, and
/// one batch more is kept in flight so that decoding overlaps inference. The consumer receives the
/// batches in input order. Memory is bounded by the batches in flight and waiting, not by the number
/// of images. An image that cannot be used does not stop the pipeline: its slot is zeroed and the
/// batch carries an <see cref="ImageIssue"/> for it, so the consumer decides (throw, or skip the row).
/// </summary>
internal sealed class DecodePipeline : IDisposable
{
    private readonly Channel<Task<Batch>> _ready;
    private readonly ConcurrentBag<float[]> _pixelBuffers = [];
    private readonly SemaphoreSlim _inFlight;
    private readonly SemaphoreSlim _runs;
    private readonly SemaphoreSlim _decoders;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private readonly FeatureSession _session;
    private readonly int _batchSize;
    private readonly int _decodeThreads;
    private readonly int _inFlightLimit;
    private readonly bool _acceptTruncated;

    /// <summary>A batch's features ([Count, D]); <paramref name="Issues"/>[i] is set for a slot whose image was bad or truncated.</summary>
    public sealed record Batch(float[] Features, int Count, IReadOnlyList<string> Paths, ImageIssue?[] Issues);

    /// <param name="paths">The images, in output order.</param>
    /// <param name="session">Runs the batches; its <see cref="FeatureSession.ConcurrentRuns"/> sets how many at once.</param>
    /// <param name="batchSize">Images per run.</param>
    /// <param name="decodeThreads">Images decoded at once, over all batches in flight.</param>
    /// <param name="acceptTruncated">Featurize truncated images instead of reporting them as bad.</param>
    /// <param name="batchesInFlight">Batches decoded or run at once; default one more than the concurrent runs (the overlap).</param>
    public DecodePipeline(IEnumerable<string> paths, FeatureSession session, int batchSize, int decodeThreads, bool acceptTruncated = false, int? batchesInFlight = null)
    {
        _session = session;
        _batchSize = batchSize;
        _acceptTruncated = acceptTruncated;
        _decodeThreads = Math.Max(1, decodeThreads);
        _inFlightLimit = Math.Max(1, batchesInFlight ?? session.ConcurrentRuns + 1);
        _inFlight = new SemaphoreSlim(_inFlightLimit);
        _runs = new SemaphoreSlim(session.ConcurrentRuns);
        _decoders = new SemaphoreSlim(_decodeThreads);
        _ready = Channel.CreateBounded<Task<Batch>>(_inFlightLimit + 1);
        _producer = Task.Run(() => Produce(paths));
    }

    /// <summary>
    /// The next batch's features ([count, D] into <paramref name="features"/>), or false at the end.
    /// <paramref name="issues"/>[i] names a bad image (its features are meaningless) or an accepted truncated one.
    /// </summary>
    public bool Next(float[] features, out int count, out IReadOnlyList<string> paths, out ImageIssue?[] issues)
    {
        count = 0;
        paths = [];
        issues = [];
        if (!_ready.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult() || !_ready.Reader.TryRead(out var work))
        {
            _producer.GetAwaiter().GetResult(); // surfaces a failure of the path source itself
            return false;
        }
        var batch = work.GetAwaiter().GetResult();
        batch.Features.AsSpan(0, batch.Count * _session.FeatureDimension).CopyTo(features);
        count = batch.Count;
        paths = batch.Paths;
        issues = batch.Issues;
        return true;
    }

    private async Task Produce(IEnumerable<string> paths)
    {
        try
        {
            using var source = paths.GetEnumerator();
            while (!_stop.IsCancellationRequested)
            {
                var batch = new List<string>(_batchSize);
                while (batch.Count < _batchSize && source.MoveNext()) batch.Add(source.Current);
                if (batch.Count == 0) break;
                await _inFlight.WaitAsync(_stop.Token);
                var work = Task.Run(() => DecodeAndRun(batch));
                await _ready.Writer.WriteAsync(work, _stop.Token);
            }
            _ready.Writer.TryComplete();
        }
        catch (OperationCanceledException)
        {
            _ready.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _ready.Writer.TryComplete(ex);
            throw;
        }
    }

    private Batch DecodeAndRun(List<string> paths)
    {
        var imageSize = _session.ImageSize;
        if (!_pixelBuffers.TryTake(out var pixels)) pixels = new float[_batchSize * imageSize];
        try
        {
            var issues = new ImageIssue?[paths.Count];
            void DecodeOne(int i)
            {
                _decoders.Wait(_stop.Token);
                try { issues[i] = Decode(paths[i], pixels.AsSpan(i * imageSize, imageSize)); }
                finally { _decoders.Release(); }
            }
            if (paths.Count > 1 && _decodeThreads > 1)
            {
                try
                {
                    Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = _decodeThreads, CancellationToken = _stop.Token }, DecodeOne);
                }
                catch (AggregateException ex)
                {
                    throw ex.InnerExceptions[0];
                }
            }
            else
            {
                for (var i = 0; i < paths.Count; i++) DecodeOne(i);
            }
            var features = new float[paths.Count * _session.FeatureDimension];
            _runs.Wait(_stop.Token);
            try { _session.Run(pixels.AsMemory(0, paths.Count * imageSize), paths.Count, features); }
            finally { _runs.Release(); }
            return new Batch(features, paths.Count, paths, issues);
        }
        finally
        {
            _pixelBuffers.Add(pixels);
            _inFlight.Release();
        }
    }

    private ImageIssue? Decode(string path, Span<float> slot)
    {
        try
        {
            return FastImageDecoder.Decode(path, _session.InputHeight, slot, acceptTruncated: _acceptTruncated)
                ? new ImageIssue(path, AcceptedTruncation, Accepted: true)
                : null;
        }
        catch (BadImageException ex)
        {
            slot.Clear();
            return new ImageIssue(path, ex.Reason, Accepted: false);
        }
    }

    /// <summary>What the warning about an accepted truncated image says.</summary>
    public const string AcceptedTruncation = "is truncated; its missing rows were filled (truncated images accepted)";

    /// <summary>Stops the pipeline and waits for the batches in flight, which use the session and the buffers.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        while (_ready.Reader.TryRead(out _)) { }
        try { _producer.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        for (var i = 0; i < _inFlightLimit; i++)
            if (!_inFlight.Wait(TimeSpan.FromSeconds(10))) break;
        _stop.Dispose();
    }
}
