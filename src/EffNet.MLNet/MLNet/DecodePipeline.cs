using EffNet.MLNet.Imaging;

namespace EffNet.MLNet;

/// <summary>
/// A bounded, ordered pipeline from image paths to features. Worker threads each take the next
/// batch of paths, decode its images into their own input buffer and run ONNX Runtime on it; up to
/// <see cref="FeatureSession.ConcurrentRuns"/> runs go at once (with one run at a time, a second
/// worker decodes the next batch meanwhile). The consumer receives the batches in input order. Memory is
/// bounded by the workers and a window of finished batches, not by the number of images. An image
/// that cannot be used does not stop the pipeline: its slot is zeroed and the batch carries an
/// <see cref="ImageIssue"/> for it, so the consumer decides (throw, or skip the row).
/// </summary>
/// <remarks>
/// The workers are dedicated threads, not thread-pool work items: they block in ONNX Runtime and
/// on each other for most of their life, and blocked pool threads starve everything else that
/// needs the pool (the decoders' <see cref="Parallel.For(int, int, Action{int})"/>, ML.NET, the caller).
/// </remarks>
internal sealed class DecodePipeline : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<long, Batch> _done = [];
    private readonly IEnumerator<string> _source;
    private readonly SemaphoreSlim _runs;
    private readonly SemaphoreSlim _decoders;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread[] _workers;
    private readonly FeatureSession _session;
    private readonly int _batchSize;
    private readonly int _decodeThreads;
    private readonly int _window;
    private readonly bool _acceptTruncated;
    private readonly ImagePreparation _preparation;
    private readonly DecodedContent? _content;
    private long _taken;
    private long _consumed;
    private long? _total;

    /// <summary>
    /// A batch's features ([Count, D]); <paramref name="Issues"/>[i] is set for a slot whose image was bad or truncated;
    /// <paramref name="Error"/> is what stopped the batch (the consumer throws it when it reaches the batch).
    /// </summary>
    public sealed record Batch(float[] Features, int Count, IReadOnlyList<string> Paths, ImageIssue?[] Issues, Exception? Error = null);

    /// <param name="paths">The images, in output order.</param>
    /// <param name="session">Runs the batches; its <see cref="FeatureSession.ConcurrentRuns"/> sets how many at once.</param>
    /// <param name="batchSize">Images per run.</param>
    /// <param name="decodeThreads">Images decoded at once, over all batches in flight.</param>
    /// <param name="acceptTruncated">Featurize truncated images instead of reporting them as bad.</param>
    /// <param name="preparation">How an image becomes the input square (default: the fast decoder at the session's input size).</param>
    /// <param name="batchesInFlight">
    /// Worker threads, each with one batch. Default: one per concurrent run when there are several (each
    /// worker decodes, then infers, so the cores stay busy without an extra batch: measured fastest by
    /// the <c>strategy</c> benchmark); two when runs go one at a time, so the next batch decodes meanwhile.
    /// </param>
    /// <param name="content">When given, each image is read once and the hash of the bytes decoded is recorded for its row.</param>
    public DecodePipeline(IEnumerable<string> paths, FeatureSession session, int batchSize, int decodeThreads, bool acceptTruncated = false,
        ImagePreparation? preparation = null, int? batchesInFlight = null, DecodedContent? content = null)
    {
        _content = content;
        _preparation = preparation ?? new ImagePreparation(Preprocessing.Fast, session.InputHeight, session.InputHeight, ResampleFilter.Bicubic);
        _session = session;
        _batchSize = batchSize;
        _acceptTruncated = acceptTruncated;
        _decodeThreads = Math.Max(1, decodeThreads);
        var workers = Math.Max(1, batchesInFlight ?? (session.ConcurrentRuns > 1 ? session.ConcurrentRuns : 2));
        _window = 2 * workers;
        _runs = new SemaphoreSlim(session.ConcurrentRuns);
        _decoders = new SemaphoreSlim(_decodeThreads);
        _source = paths.GetEnumerator();
        _workers = Enumerable.Range(0, workers).Select(i => new Thread(Work) { IsBackground = true, Name = $"effnet-decode-{i}" }).ToArray();
        foreach (var worker in _workers) worker.Start();
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
        Batch? batch;
        lock (_gate)
        {
            while (!_done.Remove(_consumed, out batch))
            {
                if (_consumed == _total) return false;
                Monitor.Wait(_gate);
            }
            _consumed++;
            Monitor.PulseAll(_gate);
        }
        if (batch.Error is not null) throw batch.Error;
        batch.Features.AsSpan(0, batch.Count * _session.FeatureDimension).CopyTo(features);
        count = batch.Count;
        paths = batch.Paths;
        issues = batch.Issues;
        return true;
    }

    private void Work()
    {
        var pixels = new float[_batchSize * _session.ImageSize];
        while (true)
        {
            long sequence;
            var paths = new List<string>(_batchSize);
            Exception? sourceError = null;
            lock (_gate)
            {
                while (!_stop.IsCancellationRequested && _total is null && _taken - _consumed >= _window) Monitor.Wait(_gate);
                if (_stop.IsCancellationRequested || _total is not null) return;
                sequence = _taken++;
                try
                {
                    while (paths.Count < _batchSize && _source.MoveNext()) paths.Add(_source.Current);
                }
                catch (Exception ex)
                {
                    sourceError = ex; // a failure of the path source itself: the batch reports it, and it is the last
                }
                if (paths.Count == 0 || sourceError is not null) _total = sourceError is null ? sequence : sequence + 1;
                Monitor.PulseAll(_gate);
            }
            if (paths.Count == 0 && sourceError is null) return;
            var batch = sourceError is not null
                ? new Batch([], 0, paths, [], sourceError)
                : DecodeAndRun(paths, pixels, sequence * _batchSize);
            lock (_gate)
            {
                _done[sequence] = batch;
                Monitor.PulseAll(_gate);
            }
            if (batch.Error is not null) return;
        }
    }

    // firstRow: the row index of paths[0] (every batch but the last is full).
    private Batch DecodeAndRun(List<string> paths, float[] pixels, long firstRow)
    {
        var imageSize = _session.ImageSize;
        var issues = new ImageIssue?[paths.Count];
        try
        {
            void DecodeOne(int i)
            {
                _decoders.Wait(_stop.Token);
                try { issues[i] = Decode(firstRow + i, paths[i], pixels.AsSpan(i * imageSize, imageSize)); }
                finally { _decoders.Release(); }
            }
            if (paths.Count > 1 && _decodeThreads > 1)
                Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = _decodeThreads, CancellationToken = _stop.Token }, DecodeOne);
            else
                for (var i = 0; i < paths.Count; i++) DecodeOne(i);
            var features = new float[paths.Count * _session.FeatureDimension];
            _runs.Wait(_stop.Token);
            try { _session.Run(pixels.AsMemory(0, paths.Count * imageSize), paths.Count, features); }
            finally { _runs.Release(); }
            return new Batch(features, paths.Count, paths, issues);
        }
        catch (AggregateException ex)
        {
            return new Batch([], 0, paths, issues, ex.InnerExceptions[0]);
        }
        catch (Exception ex)
        {
            return new Batch([], 0, paths, issues, ex);
        }
    }

    private ImageIssue? Decode(long row, string path, Span<float> slot)
    {
        try
        {
            var truncated = _content is null
                ? _preparation.Decode(path, slot, _acceptTruncated)
                : _preparation.Decode(new MemoryStream(_content.Read(row, path), writable: false), path, slot, _acceptTruncated);
            return truncated
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

    /// <summary>Stops the workers and waits for them: they use the session, which the caller disposes next.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var worker in _workers) worker.Join(TimeSpan.FromSeconds(30));
        _source.Dispose();
        _stop.Dispose();
    }
}
