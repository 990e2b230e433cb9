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
    private readonly float[] _output;
    private readonly int _count;
    private readonly int _batch;

    public ReadyTensors(FeatureSession session, IReadOnlyList<string> paths, int batch)
    {
        _session = session;
        _count = paths.Count;
        _batch = batch;
        _pixels = new float[_count * session.ImageSize];
        _output = new float[batch * session.FeatureDimension];
        for (var i = 0; i < _count; i++)
            FastImageDecoder.Decode(paths[i], session.InputHeight, _pixels.AsSpan(i * session.ImageSize, session.ImageSize));
    }

    /// <summary>Run every image through the session, <c>batch</c> at a time.</summary>
    public void RunAll()
    {
        for (var done = 0; done < _count; done += _batch)
            _session.Run(_pixels.AsMemory(done * _session.ImageSize), Math.Min(_batch, _count - done), _output);
    }
}
