using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// The minimal batch source: every image decoded once by the library's decoder (the pixels
/// serving sees) to the training resolution and kept in memory, no augmentation, a seeded
/// shuffle per epoch.
/// </summary>
internal sealed class DecodedImageBatches : ITrainingBatches
{
    private readonly float[][] _pixels;
    private readonly int[] _labels;
    private readonly int _batchSize;
    private readonly int _seed;
    private readonly bool _shuffle;

    public DecodedImageBatches(IReadOnlyList<(string Path, int Label)> images, int resolution, int batchSize, int seed, bool shuffle)
    {
        _batchSize = batchSize;
        _seed = seed;
        _shuffle = shuffle;
        _labels = images.Select(i => i.Label).ToArray();
        _pixels = new float[images.Count][];
        Parallel.For(0, images.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var buffer = new float[3 * resolution * resolution];
            FastImageDecoder.Decode(images[i].Path, resolution, buffer);
            _pixels[i] = buffer;
        });
    }

    public int Count => (_labels.Length + _batchSize - 1) / _batchSize;

    public int Images => _labels.Length;

    public int Size(int batchIndex) => Math.Min(_batchSize, _labels.Length - batchIndex * _batchSize);

    public void Fill(int epoch, int batchIndex, Span<float> pixelsNchw0To255, Span<long> labels)
    {
        var order = Order(epoch);
        var per = _pixels.Length == 0 ? 0 : _pixels[0].Length;
        for (var i = 0; i < Size(batchIndex); i++)
        {
            var image = order[batchIndex * _batchSize + i];
            _pixels[image].CopyTo(pixelsNchw0To255.Slice(i * per, per));
            labels[i] = _labels[image];
        }
    }

    private int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, _labels.Length).ToArray();
        if (_shuffle) new Random(unchecked(_seed * 1_000_003 + epoch) & int.MaxValue).Shuffle(order);
        return order;
    }
}
