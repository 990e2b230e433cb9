using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>Feature vectors of consecutive rows, a batch at a time.</summary>
internal interface IFeatureBatches : IDisposable
{
    /// <summary>Fill <paramref name="features"/> with the next batch ([count, D]); false at the end of the rows.</summary>
    bool Next(float[] features, out int count);
}

/// <summary>Pixels prepared by ML.NET's own image transforms (the stock chain's exact preprocessing), run in batches.</summary>
internal sealed class PixelBatches : IFeatureBatches
{
    private readonly DataViewRowCursor _cursor;
    private readonly ValueGetter<VBuffer<float>> _pixels;
    private readonly FeatureSession _session;
    private readonly float[] _input;
    private readonly int _batchSize;
    private VBuffer<float> _buffer;

    public PixelBatches(IDataView preprocessed, string pixelsColumn, FeatureSession session, int batchSize)
    {
        _cursor = preprocessed.GetRowCursor([preprocessed.Schema[pixelsColumn]]);
        _pixels = _cursor.GetGetter<VBuffer<float>>(preprocessed.Schema[pixelsColumn]);
        _session = session;
        _batchSize = batchSize;
        _input = new float[batchSize * session.ImageSize];
    }

    public bool Next(float[] features, out int count)
    {
        var size = _session.ImageSize;
        count = 0;
        while (count < _batchSize && _cursor.MoveNext())
        {
            _pixels(ref _buffer);
            if (_buffer.Length != size) throw new InvalidOperationException($"Expected {size} pixel values per image, got {_buffer.Length}.");
            _buffer.CopyTo(_input.AsSpan(count * size, size));
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

    public PathBatches(IDataView input, string pathColumn, string? imageFolder, FeatureSession session, int batchSize, int decodeThreads)
    {
        _pipeline = new DecodePipeline(Paths(input, pathColumn, imageFolder), session, batchSize, decodeThreads);
    }

    public bool Next(float[] features, out int count) => _pipeline.Next(features, out count, out _);

    public void Dispose() => _pipeline.Dispose();

    private static IEnumerable<string> Paths(IDataView input, string column, string? folder)
    {
        using var cursor = input.GetRowCursor([input.Schema[column]]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(input.Schema[column]);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            var path = value.ToString();
            yield return string.IsNullOrEmpty(folder) ? path : Path.Combine(folder, path);
        }
    }
}
