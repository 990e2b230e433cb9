using System.Collections.Concurrent;
using System.Threading.Channels;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet;

/// <summary>
/// A bounded producer/consumer pipeline: a background task pulls image paths, decodes each batch
/// on worker threads straight into a pooled input buffer, and hands it over; the consumer runs
/// ONNX Runtime on batch k while batch k+1 is being decoded. Memory is bounded by the pipeline
/// depth (a few batches), not by the number of images. An image that cannot be used does not stop
/// the pipeline: its slot is zeroed and the batch carries an <see cref="ImageIssue"/> for it, so the
/// consumer decides (throw, or skip the row).
/// </summary>
internal sealed class DecodePipeline : IDisposable
{
    private const int Depth = 2;
    private readonly Channel<Batch> _ready = Channel.CreateBounded<Batch>(Depth);
    private readonly ConcurrentBag<float[]> _buffers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private readonly FeatureSession _session;
    private readonly int _batchSize;
    private readonly bool _acceptTruncated;
    private readonly ImagePreparation _preparation;

    /// <summary>A decoded batch; <paramref name="Issues"/>[i] is set for a slot whose image was bad or truncated.</summary>
    public sealed record Batch(float[] Pixels, int Count, IReadOnlyList<string> Paths, ImageIssue?[] Issues, Exception? Error);

    public DecodePipeline(IEnumerable<string> paths, FeatureSession session, int batchSize, int decodeThreads, bool acceptTruncated = false,
        ImagePreparation? preparation = null)
    {
        _preparation = preparation ?? new ImagePreparation(Preprocessing.Fast, session.InputHeight, session.InputHeight, ResampleFilter.Bicubic);
        _session = session;
        _batchSize = batchSize;
        _acceptTruncated = acceptTruncated;
        for (var i = 0; i < Depth + 2; i++) _buffers.Add(new float[batchSize * session.ImageSize]);
        _producer = Task.Run(() => Produce(paths, Math.Max(1, decodeThreads)));
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
        if (!_ready.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult() || !_ready.Reader.TryRead(out var batch))
        {
            _producer.GetAwaiter().GetResult(); // surfaces a failure of the path source itself
            return false;
        }
        try
        {
            if (batch.Error is not null) throw batch.Error;
            _session.Run(batch.Pixels.AsMemory(0, batch.Count * _session.ImageSize), batch.Count, features.AsMemory(0, batch.Count * _session.FeatureDimension));
            count = batch.Count;
            paths = batch.Paths;
            issues = batch.Issues;
            return true;
        }
        finally
        {
            _buffers.Add(batch.Pixels);
        }
    }

    private async Task Produce(IEnumerable<string> paths, int threads)
    {
        try
        {
            var size = _session.InputHeight;
            var imageSize = _session.ImageSize;
            using var source = paths.GetEnumerator();
            while (!_stop.IsCancellationRequested)
            {
                var batch = new List<string>(_batchSize);
                while (batch.Count < _batchSize && source.MoveNext()) batch.Add(source.Current);
                if (batch.Count == 0) break;
                float[]? buffer;
                while (!_buffers.TryTake(out buffer)) await Task.Delay(1, _stop.Token);
                Exception? error = null;
                var issues = new ImageIssue?[batch.Count];
                try
                {
                    Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = _stop.Token },
                        i => issues[i] = Decode(batch[i], size, buffer.AsSpan(i * imageSize, imageSize)));
                }
                catch (AggregateException ex)
                {
                    error = ex.InnerExceptions.Count == 1 ? ex.InnerExceptions[0] : ex.InnerExceptions.First();
                }
                await _ready.Writer.WriteAsync(new Batch(buffer, batch.Count, batch, issues, error), _stop.Token);
                if (error is not null) break;
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

    private ImageIssue? Decode(string path, int size, Span<float> slot)
    {
        try
        {
            return _preparation.Decode(path, slot, _acceptTruncated)
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

    public void Dispose()
    {
        _stop.Cancel();
        while (_ready.Reader.TryRead(out _)) { }
        try { _producer.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
