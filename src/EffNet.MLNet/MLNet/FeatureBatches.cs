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
/// batches. When the input is a path, each image has been checked on its way in
/// (<see cref="CheckedImageView"/>): a bad one reaches ML.NET as a placeholder, and its issue is reported here.
/// </summary>
internal sealed class PixelBatches : IFeatureBatches
{
    private readonly DataViewRowCursor _cursor;
    private readonly ValueGetter<VBuffer<float>> _pixels;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, ImageIssue>? _issues;
    private readonly FeatureSession _session;
    private readonly float[] _input;
    private readonly int _batchSize;
    private VBuffer<float> _buffer;

    public PixelBatches(IDataView preprocessed, string pixelsColumn, FeatureSession session, int batchSize,
        System.Collections.Concurrent.ConcurrentDictionary<long, ImageIssue>? issues = null)
    {
        _cursor = preprocessed.GetRowCursor([preprocessed.Schema[pixelsColumn]]);
        _pixels = _cursor.GetGetter<VBuffer<float>>(preprocessed.Schema[pixelsColumn]);
        _issues = issues;
        _session = session;
        _batchSize = batchSize;
        _input = new float[batchSize * session.ImageSize];
    }

    public bool Next(float[] features, out int count, out ImageIssue?[] issues)
    {
        var size = _session.ImageSize;
        count = 0;
        issues = new ImageIssue?[_batchSize];
        while (count < _batchSize && _cursor.MoveNext())
        {
            var slot = _input.AsSpan(count * size, size);
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
        if (count == 0) return false;
        _session.Run(_input.AsMemory(0, count * size), count, features.AsMemory(0, count * _session.FeatureDimension));
        return true;
    }

    public void Dispose() => _cursor.Dispose();
}

/// <summary>Image paths decoded by the fast decoder on worker threads while the previous batch runs.</summary>
internal sealed class PathBatches : IFeatureBatches
{
    private readonly DecodePipeline _pipeline;

    public PathBatches(IDataView input, string pathColumn, string? imageFolder, FeatureSession session, int batchSize, int decodeThreads, bool acceptTruncated = false,
        ImagePreparation? preparation = null)
    {
        _pipeline = new DecodePipeline(Paths(input, pathColumn, imageFolder), session, batchSize, decodeThreads, acceptTruncated, preparation);
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
