using EffNet.MLNet.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>Feature vectors of consecutive rows, a batch at a time.</summary>
internal interface IFeatureBatches : IDisposable
{
    /// <summary>
    /// Fill <paramref name="features"/> with the next batch ([count, D]); false at the end of the rows.
    /// <paramref name="issues"/>[i], when set, names a bad image (row i has no features) or an accepted truncated one.
    /// </summary>
    bool Next(float[] features, out int count, out ImageIssue?[] issues);
}

/// <summary>
/// Pixels prepared by ML.NET's own image transforms (the stock chain's exact preprocessing), run in
/// batches: the cursor reads one batch for each of the session's concurrent runs, then they run
/// together. When the input is a path, each image has been checked on its way in
/// (<see cref="CheckedImageView"/>): a bad one reaches ML.NET as a placeholder, and its issue is reported here.
/// </summary>
internal sealed class PixelBatches : IFeatureBatches
{
    private readonly DataViewRowCursor _cursor;
    private readonly ValueGetter<VBuffer<float>> _pixels;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, ImageIssue>? _issues;
    private readonly FeatureSession _session;
    private readonly int _batchSize;
    private readonly float[][] _inputs;
    private readonly float[] _features;
    private readonly int[] _counts;
    private readonly ImageIssue?[][] _batchIssues;
    private int _batchesRead;
    private int _batchesServed;
    private VBuffer<float> _buffer;

    public PixelBatches(IDataView preprocessed, string pixelsColumn, FeatureSession session, int batchSize,
        System.Collections.Concurrent.ConcurrentDictionary<long, ImageIssue>? issues = null)
    {
        _cursor = preprocessed.GetRowCursor([preprocessed.Schema[pixelsColumn]]);
        _pixels = _cursor.GetGetter<VBuffer<float>>(preprocessed.Schema[pixelsColumn]);
        _issues = issues;
        _session = session;
        _batchSize = batchSize;
        var runs = session.ConcurrentRuns;
        _inputs = Enumerable.Range(0, runs).Select(_ => new float[batchSize * session.ImageSize]).ToArray();
        _features = new float[runs * batchSize * session.FeatureDimension];
        _counts = new int[runs];
        _batchIssues = new ImageIssue?[runs][];
    }

    public bool Next(float[] features, out int count, out ImageIssue?[] issues)
    {
        if (_batchesServed == _batchesRead && !ReadAndRun())
        {
            count = 0;
            issues = [];
            return false;
        }
        var k = _batchesServed++;
        count = _counts[k];
        issues = _batchIssues[k];
        var dim = _session.FeatureDimension;
        _features.AsSpan(k * _batchSize * dim, count * dim).CopyTo(features);
        return true;
    }

    private bool ReadAndRun()
    {
        _batchesRead = 0;
        _batchesServed = 0;
        while (_batchesRead < _inputs.Length && Read(_inputs[_batchesRead], out _counts[_batchesRead], out _batchIssues[_batchesRead])) _batchesRead++;
        if (_batchesRead == 0) return false;
        var dim = _session.FeatureDimension;
        void Run(int k) => _session.Run(_inputs[k].AsMemory(0, _counts[k] * _session.ImageSize), _counts[k], _features.AsMemory(k * _batchSize * dim, _counts[k] * dim));
        if (_batchesRead == 1)
        {
            Run(0);
        }
        else
        {
            try { Parallel.For(0, _batchesRead, Run); }
            catch (AggregateException ex) { throw ex.InnerExceptions[0]; }
        }
        return true;
    }

    private bool Read(float[] input, out int count, out ImageIssue?[] issues)
    {
        var size = _session.ImageSize;
        count = 0;
        issues = new ImageIssue?[_batchSize];
        while (count < _batchSize && _cursor.MoveNext())
        {
            var slot = input.AsSpan(count * size, size);
            _pixels(ref _buffer); // a bad image arrives as a placeholder, checked by the time its pixels exist
            if (_issues is not null && _issues.TryRemove(_cursor.Position, out var issue)) issues[count] = issue;
            if (issues[count] is { Accepted: false })
            {
                slot.Clear();
            }
            else
            {
                if (_buffer.Length != size) throw new InvalidOperationException($"Expected {size} pixel values per image, got {_buffer.Length}.");
                _buffer.CopyTo(slot);
            }
            count++;
        }
        return count > 0;
    }

    public void Dispose() => _cursor.Dispose();
}

/// <summary>Image paths decoded by the fast decoder on worker threads while the previous batch runs.</summary>
internal sealed class PathBatches : IFeatureBatches
{
    private readonly DecodePipeline _pipeline;

    public PathBatches(IDataView input, string pathColumn, string? imageFolder, FeatureSession session, int batchSize, int decodeThreads, bool acceptTruncated = false,
        ImagePreparation? preparation = null, DecodedContent? content = null)
    {
        _pipeline = new DecodePipeline(Paths(input, pathColumn, imageFolder), session, batchSize, decodeThreads, acceptTruncated, preparation, content: content);
    }

    public bool Next(float[] features, out int count, out ImageIssue?[] issues) => _pipeline.Next(features, out count, out _, out issues);

    public void Dispose() => _pipeline.Dispose();

    /// <summary>A row's path, resolved against the image folder as ML.NET's LoadImages does.</summary>
    public static string Resolve(string path, string? folder) => string.IsNullOrEmpty(folder) ? path : Path.Combine(folder, path);

    private static IEnumerable<string> Paths(IDataView input, string column, string? folder)
    {
        using var cursor = input.GetRowCursor([input.Schema[column]]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(input.Schema[column]);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            yield return Resolve(value.ToString(), folder);
        }
    }
}
