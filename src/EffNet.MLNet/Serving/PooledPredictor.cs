using EffNet.MLNet.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>A class name and its score.</summary>
/// <param name="Label">The class.</param>
/// <param name="Score">Its score (the model's <c>Score</c> entry).</param>
public sealed record LabelScore(string Label, float Score);

/// <summary>A label of a multi-label model, its probability, and the threshold at or over which it is predicted.</summary>
/// <param name="Label">The label.</param>
/// <param name="Probability">The model's probability that the image carries it.</param>
/// <param name="Threshold">The label's threshold, from the model's <c>model.json</c>.</param>
public sealed record LabelProbability(string Label, float Probability, float Threshold);

/// <summary>A prediction of an image classifier: the label and one score per class.</summary>
/// <param name="PredictedLabel">The most likely label (empty when <paramref name="Error"/> is set); for a multi-label model, the most likely of <see cref="PredictedLabels"/>, empty when there is none.</param>
/// <param name="Score">Scores in the order of <see cref="PooledPredictor.Labels"/> (empty when <paramref name="Error"/> is set); for a multi-label model, the probabilities.</param>
/// <param name="Error">Why this image could not be classified (batch predictions only); null on success.</param>
public sealed record ImagePrediction(string PredictedLabel, float[] Score, string? Error = null)
{
    /// <summary>Every class with its score, highest first (empty when the model records no class names).</summary>
    public IReadOnlyList<LabelScore> Scores { get; init; } = [];

    /// <summary>
    /// For a multi-label model (see <see cref="PooledPredictor.IsMultiLabel"/>), every label at or over its threshold, most
    /// probable first (possibly none); for a single-label model, <see cref="PredictedLabel"/> alone.
    /// </summary>
    public IReadOnlyList<string> PredictedLabels { get; init; } = [];

    /// <summary>For a multi-label model, every label with its probability and threshold, in the order of <see cref="PooledPredictor.Labels"/>; empty otherwise.</summary>
    public IReadOnlyList<LabelProbability> Probabilities { get; init; } = [];
}

/// <summary>Options of <see cref="PooledPredictor"/>.</summary>
public sealed record PooledPredictorOptions
{
    /// <summary>The ML.NET context models are loaded under (its log receives load messages). Default: a new one with seed 0.</summary>
    public MLContext? Context { get; init; }

    /// <summary>Prediction engines kept for reuse; more are made when more callers arrive at once. Default: one per core.</summary>
    public int? MaxRetainedEngines { get; init; }

    /// <summary>Load the model again when its file changes on disk; requests under way finish on the old one. Default: on.</summary>
    public bool WatchForChanges { get; init; } = true;

    /// <summary>Classify truncated images from the rows they have instead of refusing them. Default: off.</summary>
    public bool AcceptTruncatedImages { get; init; }

    /// <summary>
    /// Resize images as the <c>model.json</c> beside the model says training did: for a model trained with
    /// torchvision preprocessing, torchvision's transform is applied exactly and the saved chain's own
    /// resize passes the result through; otherwise (or without a model.json) the saved chain resizes. Off:
    /// always the saved chain's own resize, as a stock ML.NET consumer of the <c>.zip</c> does. Default: on.
    /// </summary>
    public bool ApplyRecordedPreprocessing { get; init; } = true;

    /// <summary>Largest declared width × height accepted; larger images are refused from their header. Default: about 180 megapixels.</summary>
    public long MaxPixels { get; init; } = ImageCheck.DefaultMaxPixels;

    /// <summary>Default serving decoding budget: 64 MiB of decoded pixels, images up to about 16.7 megapixels.</summary>
    public const long DefaultMaxDecodedBytes = 64L << 20;

    /// <summary>
    /// Most bytes one image may take decoded (width × height × 4, from its header, before anything is
    /// allocated); larger images, and compression bombs past 4 MP with over 1,000 pixels a byte of file,
    /// are refused with <see cref="BadImageException"/>. A request holds its encoded bytes, this one decoded
    /// copy and the model's input square (under 2 MiB for B7's 600×600): the saved model's resize is made from
    /// the decode, with no full-size <see cref="MLImage"/> in between, whenever the model starts with the
    /// <c>ResizeImages</c> this library saves (checked when the model is loaded); otherwise it also holds ML.NET's
    /// full-size image and the copy its resize draws from, about three times this. Default:
    /// <see cref="DefaultMaxDecodedBytes"/> (serving); the CLI and training use <see cref="ImageCheck.DefaultMaxDecodedBytes"/>.
    /// </summary>
    public long MaxDecodedBytes { get; init; } = DefaultMaxDecodedBytes;
}

/// <summary>
/// Thread-safe predictions from a saved image-classifier <c>.zip</c> — from a file path, encoded
/// bytes, a stream or an <see cref="MLImage"/>, with no temporary file. The model is loaded once
/// and shared by a pool of prediction engines (ML.NET's <c>PredictionEngine</c> is not
/// thread-safe; ONNX Runtime's session is), so memory does not grow with the number of callers.
/// When the file changes the model is loaded again and swapped in; requests under way finish on
/// the model they started with. Bad images throw <see cref="BadImageException"/> naming the input
/// and the reason. One instance serves a whole web app: register it as a singleton, or use
/// <c>AddImageClassifier</c> from <c>EffNet.MLNet.AspNetCore</c>.
/// </summary>
/// <remarks>
/// Works with models whose first step loads images from a path column (what <c>effnet train</c> and
/// the estimator save) and with models that take an <see cref="MLImage"/> column; steps that need
/// the label column (a <c>MapValueToKey</c> fitted in training) are left out, as prediction never
/// has a label.
/// </remarks>
public sealed class PooledPredictor : IDisposable
{
    private const int BatchChunk = 64;
    private readonly PooledPredictorOptions _options;
    private readonly MLContext _ml;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer? _debounce;
    private readonly object _reloadLock = new();
    private ModelGeneration _current;
    private int _reloadRetries;
    private bool _disposed;

    /// <summary>Load <paramref name="modelPath"/>; keep at most <paramref name="maxEngines"/> engines between calls (default: one per core).</summary>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable ML.NET image classifier.</exception>
    public PooledPredictor(string modelPath, int? maxEngines = null)
        : this(modelPath, new PooledPredictorOptions { MaxRetainedEngines = maxEngines })
    {
    }

    /// <summary>Load <paramref name="modelPath"/> with <paramref name="options"/>.</summary>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable ML.NET image classifier.</exception>
    public PooledPredictor(string modelPath, PooledPredictorOptions options)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        ModelPath = Path.GetFullPath(modelPath);
        if (!File.Exists(ModelPath)) throw new FileNotFoundException($"The model '{modelPath}' does not exist.", modelPath);
        _options = options;
        _ml = options.Context ?? new MLContext(seed: 0);
        _current = Load();
        if (!options.WatchForChanges) return;
        try
        {
            _debounce = new Timer(_ => TryReload(), null, Timeout.Infinite, Timeout.Infinite);
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(ModelPath)!, Path.GetFileName(ModelPath))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            FileSystemEventHandler changed = (_, _) => ScheduleReload();
            _watcher.Changed += changed;
            _watcher.Created += changed;
            _watcher.Renamed += (_, _) => ScheduleReload();
            _watcher.EnableRaisingEvents = true;   // can fail on Linux when the inotify limit is reached
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The model file (full path).</summary>
    public string ModelPath { get; }

    /// <summary>Class names in the order of <see cref="ImagePrediction.Score"/> (empty if the model does not record them).</summary>
    public IReadOnlyList<string> Labels => Volatile.Read(ref _current).Labels;

    /// <summary>
    /// Whether the model is multi-label: its <c>model.json</c> says <c>task: "multi-label"</c>. Its predictions then carry
    /// <see cref="ImagePrediction.PredictedLabels"/> judged against <see cref="Thresholds"/> and <see cref="ImagePrediction.Probabilities"/>.
    /// </summary>
    public bool IsMultiLabel => Volatile.Read(ref _current).Thresholds.Count > 0;

    /// <summary>Per label, in the order of <see cref="Labels"/>, the probability at or over which a multi-label model predicts it (from its <c>model.json</c>); empty for a single-label model.</summary>
    public IReadOnlyList<float> Thresholds => Volatile.Read(ref _current).Thresholds;

    /// <summary>
    /// <see cref="Preprocessing.TorchvisionExact"/> when torchvision's transform is applied before the saved chain (see
    /// <see cref="PooledPredictorOptions.ApplyRecordedPreprocessing"/>), else <see cref="Preprocessing.Fast"/>: the chain's own resize.
    /// </summary>
    public Preprocessing Preprocessing => Volatile.Read(ref _current).Preparation?.Mode ?? Preprocessing.Fast;

    /// <summary>The side of the square serving makes from each decode for the current model (null: the model gets the whole image).</summary>
    internal int? InputSquare => Volatile.Read(ref _current).InputSquare;

    /// <summary>How many times a changed model file has been loaded and swapped in.</summary>
    public int ReloadCount { get; private set; }

    /// <summary>Why the last attempt to load a changed model file failed (the previous model stays in use); null after a success.</summary>
    public string? LastReloadError { get; private set; }

    /// <summary>Classify the image file at <paramref name="imagePath"/>.</summary>
    /// <exception cref="BadImageException">The file is missing or not a usable image; the message names it and says why.</exception>
    public ImagePrediction Predict(string imagePath)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        return WithGeneration(g =>
        {
            using var image = MLImageDecoder.DecodeFile(imagePath, _options.MaxPixels, _options.AcceptTruncatedImages, _options.MaxDecodedBytes, g.Reduce);
            return g.Predict(image);
        });
    }

    /// <summary>Classify encoded image bytes (JPEG, PNG, WebP, GIF, BMP); <paramref name="name"/> names them in errors (an upload's file name).</summary>
    /// <exception cref="BadImageException">The bytes are not a usable image.</exception>
    public ImagePrediction Predict(byte[] image, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        return WithGeneration(g =>
        {
            using var decoded = MLImageDecoder.Decode(image, name, _options.MaxPixels, _options.AcceptTruncatedImages, _options.MaxDecodedBytes, g.Reduce);
            return g.Predict(decoded);
        });
    }

    /// <summary>Classify an encoded image read from <paramref name="image"/>; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="BadImageException">The stream's content is not a usable image.</exception>
    public ImagePrediction Predict(Stream image, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        return WithGeneration(g =>
        {
            using var decoded = MLImageDecoder.Decode(image, name, _options.MaxPixels, _options.AcceptTruncatedImages, _options.MaxDecodedBytes, g.Reduce);
            return g.Predict(decoded);
        });
    }

    /// <summary>Classify a decoded image. The caller keeps it: the model sees a copy.</summary>
    public ImagePrediction Predict(MLImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        // ML.NET disposes an image that passes through its resize step unchanged (one already at the
        // model's size) on the engine's next use, from whichever request that is.
        using var copy = MLImage.CreateFromPixels(image.Width, image.Height, image.PixelFormat, image.Pixels);
        return WithGeneration(g =>
        {
            using var square = g.Preparation?.ToSquareImage(copy);
            return g.Predict(square ?? copy);
        });
    }

    // The decode runs under the generation's lease: how it shrinks the image to the model's input is the
    // generation's (its recorded preprocessing, its resize), and a reload in between must not mix two models.
    private ImagePrediction WithGeneration(Func<ModelGeneration, ModelGeneration.ScoreRow> predict)
    {
        var generation = Lease();
        try { return ToPrediction(predict(generation), generation); }
        finally { generation.Return(); }
    }

    /// <summary>
    /// Classify many image files in passes over the model (faster than one call each). An image
    /// that cannot be used — missing, not an image, truncated, a corrupt body — gets a result with
    /// <see cref="ImagePrediction.Error"/> set; the others are classified as usual.
    /// </summary>
    public IReadOnlyList<ImagePrediction> PredictBatch(IEnumerable<string> imagePaths)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        var results = new List<ImagePrediction>();
        var generation = Lease();
        try
        {
            foreach (var chunk in imagePaths.Chunk(BatchChunk))
                results.AddRange(PredictChunk(generation, chunk));
        }
        finally { generation.Return(); }
        return results;
    }

    /// <summary>Load the model file again now if it changed since it was loaded.</summary>
    /// <returns>Whether a new model was swapped in.</returns>
    /// <exception cref="InvalidDataException">The changed file is not a readable model; the previous model stays in use.</exception>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            if (_disposed) return false;
            var current = Volatile.Read(ref _current);
            var file = new FileInfo(ModelPath);
            if (!file.Exists || (file.LastWriteTimeUtc == current.FileTimeUtc && file.Length == current.FileLength)) return false;
            var fresh = Load();
            Interlocked.Exchange(ref _current, fresh).Retire();
            ReloadCount++;
            LastReloadError = null;
            return true;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_reloadLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _watcher?.Dispose();
        _debounce?.Dispose();
        Volatile.Read(ref _current).Retire();
    }

    private List<ImagePrediction> PredictChunk(ModelGeneration generation, string[] paths)
    {
        var images = new MLImage?[paths.Length];
        var errors = new string?[paths.Length];
        try
        {
            for (var i = 0; i < paths.Length; i++)
            {
                try { images[i] = MLImageDecoder.DecodeFile(paths[i], _options.MaxPixels, _options.AcceptTruncatedImages, _options.MaxDecodedBytes, generation.Reduce); }
                catch (BadImageException ex) { errors[i] = ex.Message; }
            }
            var scored = generation.PredictMany(images.OfType<MLImage>().ToList());
            var next = 0;
            return paths.Select((_, i) => errors[i] is { } error
                ? new ImagePrediction("", [], error)
                : ToPrediction(scored[next++], generation)).ToList();
        }
        finally
        {
            foreach (var image in images) image?.Dispose();
        }
    }

    private static ImagePrediction ToPrediction(ModelGeneration.ScoreRow row, ModelGeneration generation)
    {
        var labels = generation.Labels;
        var scores = labels.Count == row.Score.Length
            ? labels.Select((label, i) => new LabelScore(label, row.Score[i])).OrderByDescending(s => s.Score).ToList()
            : [];
        if (generation.Thresholds.Count == 0) return new ImagePrediction(row.PredictedLabel, row.Score) { Scores = scores, PredictedLabels = [row.PredictedLabel] };
        // The label count was checked against the model's Probability when it was loaded.
        var probabilities = labels.Select((label, i) => new LabelProbability(label, row.Score[i], generation.Thresholds[i])).ToList();
        var predicted = probabilities.Where(p => p.Probability >= p.Threshold).OrderByDescending(p => p.Probability).Select(p => p.Label).ToList();
        return new ImagePrediction(predicted.FirstOrDefault() ?? "", row.Score) { Scores = scores, PredictedLabels = predicted, Probabilities = probabilities };
    }

    private ModelGeneration Lease()
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var generation = Volatile.Read(ref _current);
            if (generation.TryLease()) return generation;
        }
    }

    private ModelGeneration Load()
    {
        // The time before the bytes: a write in between is then seen as a change next time, not missed.
        var fileTime = File.GetLastWriteTimeUtc(ModelPath);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(ModelPath); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"The model '{ModelPath}' does not exist.", ModelPath); }
        var preparation = _options.ApplyRecordedPreprocessing ? RecordedPreprocessing.Read(ModelPath) : null;
        var multiLabel = RecordedThresholds.Read(ModelPath);
        return new ModelGeneration(_ml, bytes, ModelPath, fileTime, _options.MaxRetainedEngines ?? Environment.ProcessorCount, multiLabel) { Preparation = preparation };
    }

    private void ScheduleReload()
    {
        Volatile.Write(ref _reloadRetries, 0);
        try { _debounce?.Change(250, Timeout.Infinite); }
        catch (ObjectDisposedException) { }
    }

    // A file being written is often unreadable for a moment: keep the current model, try again a few
    // times, and again on the next change event (a writer that renames a finished file into place raises one).
    private void TryReload()
    {
        try { Reload(); }
        catch (Exception ex)   // on a timer thread: anything a foreign or half-written file causes must not end the process
        {
            LastReloadError = ex.Message;
            if (Interlocked.Increment(ref _reloadRetries) <= 3)
            {
                try { _debounce?.Change(1000, Timeout.Infinite); }
                catch (ObjectDisposedException) { }
            }
        }
    }
}
