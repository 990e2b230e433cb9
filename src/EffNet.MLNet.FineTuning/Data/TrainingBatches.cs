using System.Runtime.ExceptionServices;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// The training images as batches: each epoch a seeded shuffle of the list, each image decoded by the library's
/// decoder and augmented from its own random stream, keyed by (seed, epoch, image index). So a batch is the same
/// whatever the thread count, the order batches are filled in, or whether an image came from the cache.
/// Partial batches are kept (PyTorch's <c>drop_last=False</c>) unless <see cref="TrainingBatchesOptions.DropLast"/>:
/// the last batch then holds <see cref="SizeOf"/> images, fewer than <see cref="BatchSize"/>.
/// Pixels come out as planar RGB floats 0…255 (NCHW), the inference graph's <c>pixels</c> layout, side
/// <see cref="Resolution"/> = the preparation's <see cref="ImagePreparation.Size"/>; with
/// <see cref="AugmentPreset.None"/> an image is exactly the library's input square for it.
/// <see cref="Fill"/> is serialised: one batch at a time, each spread over the threads.
/// </summary>
internal sealed class TrainingBatches : ITrainingBatches
{
    private readonly IReadOnlyList<LabeledImage> _images;
    private readonly AugmentOptions _augment;
    private readonly int _seed;
    private readonly TrainingBatchesOptions _options;
    private readonly ImageStore _store;
    private readonly float[] _batch;
    private readonly object _gate = new();
    private (int Epoch, int[] Order)? _order;

    public TrainingBatches(IReadOnlyList<LabeledImage> images, ImagePreparation preparation, int batchSize, AugmentOptions augment, int seed, TrainingBatchesOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(preparation);
        ArgumentNullException.ThrowIfNull(augment);
        if (images.Count == 0) throw new ArgumentException("There are no training images.", nameof(images));
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        var negative = images.FirstOrDefault(image => image.Label < 0);
        if (negative is not null) throw new ArgumentException($"{negative.Path} has the negative label index {negative.Label}.", nameof(images));
        _options = options ?? new TrainingBatchesOptions();
        if (_options.Threads < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.Threads, "Threads must be at least 1.");
        if (_options.WorkingScale < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.WorkingScale, "The working scale must be at least 1.");
        _images = images;
        _augment = augment;
        _seed = seed;
        BatchSize = batchSize;
        Resolution = preparation.Size;
        var workingSide = (int)Math.Ceiling(Resolution * _options.WorkingScale);
        _store = new ImageStore(images.Select(image => image.Path).ToArray(), preparation, augment.Preset == AugmentPreset.None,
            workingSide, _options.CacheBytes, _options.AcceptTruncated, _options.MaxPixels);
        _batch = new float[batchSize * ImageFloats];
    }

    /// <summary>Images in the list.</summary>
    public int ImageCount => _images.Count;

    /// <summary>Images in a full batch.</summary>
    public int BatchSize { get; }

    /// <summary>The side of each output square.</summary>
    public int Resolution { get; }

    /// <summary>Floats one image takes in a batch: 3 × Resolution².</summary>
    public int ImageFloats => 3 * Resolution * Resolution;

    /// <summary>Bytes of decoded images held in memory now.</summary>
    public long CachedBytes => _store.CachedBytes;

    public int Count => _options.DropLast ? ImageCount / BatchSize : (ImageCount + BatchSize - 1) / BatchSize;

    /// <summary>Images in batch <paramref name="batchIndex"/>: <see cref="BatchSize"/>, or fewer for a last partial batch.</summary>
    public int SizeOf(int batchIndex)
    {
        if (batchIndex < 0 || batchIndex >= Count) throw new ArgumentOutOfRangeException(nameof(batchIndex), batchIndex, $"There are {Count} batches.");
        return Math.Min(BatchSize, ImageCount - batchIndex * BatchSize);
    }

    /// <summary>The order images are visited in <paramref name="epoch"/>: a permutation of the list's indices.</summary>
    public IReadOnlyList<int> Order(int epoch)
    {
        lock (_gate) return OrderOf(epoch);
    }

    /// <summary>
    /// Write batch <paramref name="batchIndex"/> of <paramref name="epoch"/>: <see cref="SizeOf"/> images into the first
    /// <c>SizeOf × ImageFloats</c> floats of <paramref name="pixelsNCHW"/> and their labels into <paramref name="labels"/>;
    /// anything past them is left as it was.
    /// </summary>
    /// <exception cref="BadImageException">An image of the batch cannot be used (the first such image of the batch).</exception>
    public void Fill(int epoch, int batchIndex, Span<float> pixelsNCHW, Span<int> labels)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "The epoch must not be negative.");
        var size = SizeOf(batchIndex);
        if (pixelsNCHW.Length < size * ImageFloats) throw new ArgumentException($"The pixel buffer holds {pixelsNCHW.Length} floats; batch {batchIndex} needs {size * ImageFloats}.", nameof(pixelsNCHW));
        if (labels.Length < size) throw new ArgumentException($"The label buffer holds {labels.Length}; batch {batchIndex} has {size} images.", nameof(labels));
        lock (_gate)
        {
            var order = OrderOf(epoch);
            var first = batchIndex * BatchSize;
            var failures = new Exception?[size];
            Parallel.For(0, size, new ParallelOptions { MaxDegreeOfParallelism = _options.Threads }, k =>
            {
                var index = order[first + k];
                try
                {
                    var random = SeededRandom.For(_seed, epoch, index);
                    Augmenter.Render(_store.Get(index), Resolution, _augment, ref random, _batch.AsSpan(k * ImageFloats, ImageFloats));
                }
                catch (BadImageException ex) { failures[k] = ex; }
            });
            var failure = Array.Find(failures, f => f is not null);
            if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();
            _batch.AsSpan(0, size * ImageFloats).CopyTo(pixelsNCHW);
            for (var k = 0; k < size; k++) labels[k] = _images[order[first + k]].Label;
        }
    }

    private int[] OrderOf(int epoch)
    {
        if (_order is { } known && known.Epoch == epoch) return known.Order;
        var order = Enumerable.Range(0, ImageCount).ToArray();
        if (_options.Shuffle)
        {
            // Fisher–Yates from a stream of its own (index −1 is no image's).
            var random = SeededRandom.For(_seed, epoch, -1, stream: 1);
            for (var i = order.Length - 1; i > 0; i--)
            {
                var j = random.NextInt(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }
        _order = (epoch, order);
        return order;
    }
}
