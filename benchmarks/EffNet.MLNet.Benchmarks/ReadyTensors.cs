using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Images decoded once, beforehand, into one input tensor: ONNX Runtime alone, timed on the same
/// real pixels the other contenders decode (an all-zero tensor runs faster than photos).
/// </summary>
internal sealed class ReadyTensors
{
    private readonly FeatureSession _session;
    private readonly float[] _pixels;
    private readonly int _batch;
    private readonly int _imageSize;

    public ReadyTensors(FeatureSession session, IReadOnlyList<string> paths, int batch)
    {
        _session = session;
        Count = paths.Count;
        _batch = batch;
        _imageSize = session.ImageSize;
        _pixels = new float[Count * _imageSize];
        Parallel.For(0, Count, i => FastImageDecoder.Decode(paths[i], session.InputHeight, _pixels.AsSpan(i * _imageSize, _imageSize)));
    }

    /// <summary>Images held.</summary>
    public int Count { get; }

    /// <summary>Run every image through the session given at construction, <c>batch</c> at a time, one run after another.</summary>
    public void RunAll() => Run(_session, _batch, 1, Count);

    /// <summary>
    /// Run the first <paramref name="count"/> images through <paramref name="session"/> (which must take
    /// the same input size), <paramref name="batch"/> at a time, keeping <paramref name="runs"/> runs going at once.
    /// </summary>
    public void Run(FeatureSession session, int batch, int runs, int count)
    {
        // Dedicated threads rather than Parallel.For: a busy thread pool must not quietly run the "concurrent" runs one by one.
        var next = -1;
        var batches = (count + batch - 1) / batch;
        var threads = Enumerable.Range(0, runs).Select(_ => new Thread(() =>
        {
            var output = new float[batch * session.FeatureDimension];
            for (var b = Interlocked.Increment(ref next); b < batches; b = Interlocked.Increment(ref next))
            {
                var start = b * batch;
                var n = Math.Min(batch, count - start);
                session.Run(_pixels.AsMemory(start * _imageSize, n * _imageSize), n, output);
            }
        })).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
    }
}
