using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>A prediction of an image classifier: the label and one score per class.</summary>
/// <param name="PredictedLabel">The most likely label (empty when <paramref name="Error"/> is set).</param>
/// <param name="Score">Scores in the order of <see cref="PooledPredictor.Labels"/> (empty when <paramref name="Error"/> is set).</param>
/// <param name="Error">Why this image could not be classified (batch predictions only); null on success.</param>
public sealed record ImagePrediction(string PredictedLabel, float[] Score, string? Error = null);

/// <summary>
/// Thread-safe predictions from a saved image-classifier <c>.zip</c> (input column
/// <c>ImagePath</c>, outputs <c>PredictedLabel</c> and <c>Score</c>). ML.NET's
/// <c>PredictionEngine</c> is not thread-safe; this keeps a pool of engines, each over its own
/// copy of the model (engines of one model share one ONNX Runtime session, and concurrent runs
/// on it crashed the process under test), at most one per core; further callers wait for a free
/// engine. One instance serves a whole web app — register it as a singleton.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddSingleton(_ => new PooledPredictor("model.zip"));
/// app.MapPost("/classify", async (HttpRequest request, PooledPredictor predictor) =>
/// {
///     using var body = new MemoryStream();
///     await request.Body.CopyToAsync(body);
///     return predictor.Predict(body.ToArray());
/// });
/// </code>
/// </example>
public sealed class PooledPredictor : IDisposable
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly string _modelPath;
    private readonly byte[] _modelBytes;
    private readonly ITransformer _model;
    private readonly ConcurrentBag<PredictionEngine<Input, Output>> _engines = [];
    private readonly SemaphoreSlim _slots;

    /// <summary>Load <paramref name="modelPath"/>; serve at most <paramref name="maxEngines"/> predictions at once (default: one per core).</summary>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable ML.NET model.</exception>
    public PooledPredictor(string modelPath, int? maxEngines = null)
    {
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"The model '{modelPath}' does not exist.", modelPath);
        _modelPath = modelPath;
        _modelBytes = File.ReadAllBytes(modelPath);
        _model = LoadCopy();
        _slots = new SemaphoreSlim(Math.Max(1, maxEngines ?? Environment.ProcessorCount));
        var schema = _model.GetOutputSchema(_ml.Data.LoadFromEnumerable(Array.Empty<Input>()).Schema);
        Labels = SlotNames(schema);
    }

    /// <summary>Class names in the order of <see cref="ImagePrediction.Score"/> (empty if the model does not record them).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Classify the image file at <paramref name="imagePath"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable image; the message says why.</exception>
    public ImagePrediction Predict(string imagePath)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        if (!File.Exists(imagePath) && !Directory.Exists(imagePath)) throw new FileNotFoundException($"The image '{imagePath}' does not exist.", imagePath);
        if (Imaging.ImageCheck.Problem(imagePath) is { } problem) throw new InvalidDataException($"'{imagePath}' {problem}.");
        _slots.Wait();
        PredictionEngine<Input, Output>? engine = null;
        try
        {
            engine = _engines.TryTake(out var e) ? e : _ml.Model.CreatePredictionEngine<Input, Output>(LoadCopy());
            var output = engine.Predict(new Input { ImagePath = imagePath });
            return new ImagePrediction(output.PredictedLabel, output.Score);
        }
        finally
        {
            if (engine is not null) _engines.Add(engine);
            _slots.Release();
        }
    }

    /// <summary>Classify encoded image bytes (JPEG, PNG, …).</summary>
    public ImagePrediction Predict(byte[] image)
    {
        ArgumentNullException.ThrowIfNull(image);
        // The saved model starts from a path (the portable ML.NET contract), so bytes pass through a private temp file.
        var path = Path.Combine(Path.GetTempPath(), "effnet-predict-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, image);
        try { return Predict(path); }
        finally { File.Delete(path); }
    }

    /// <summary>Classify an encoded image read from <paramref name="image"/>.</summary>
    public ImagePrediction Predict(Stream image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var buffer = new MemoryStream();
        image.CopyTo(buffer);
        return Predict(buffer.ToArray());
    }

    /// <summary>
    /// Classify many image files in one pass over the model (faster than one call each). An image
    /// that cannot be read gets a result with <see cref="ImagePrediction.Error"/> set; the others
    /// are classified as usual.
    /// </summary>
    public IReadOnlyList<ImagePrediction> PredictBatch(IEnumerable<string> imagePaths)
    {
        var paths = imagePaths.ToList();
        var problems = paths.Select(p => Imaging.ImageCheck.Problem(p)).ToList();
        var good = paths.Where((_, i) => problems[i] is null).Select(p => new Input { ImagePath = p }).ToList();
        List<Output> outputs;
        lock (_model)
            outputs = _ml.Data.CreateEnumerable<Output>(_model.Transform(_ml.Data.LoadFromEnumerable(good)), reuseRowObject: false).ToList();
        var next = 0;
        return paths.Select((p, i) => problems[i] is { } problem
            ? new ImagePrediction("", [], $"'{p}' {problem}.")
            : new ImagePrediction(outputs[next].PredictedLabel, outputs[next++].Score)).ToList();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        while (_engines.TryTake(out var engine)) engine.Dispose();
        _slots.Dispose();
    }

    private ITransformer LoadCopy()
    {
        using var stream = new MemoryStream(_modelBytes, writable: false);
        return SavedModel.Load(_ml, stream, _modelPath);
    }

    private static IReadOnlyList<string> SlotNames(DataViewSchema schema)
    {
        if (schema.GetColumnOrNull("Score") is not { } score || !score.HasSlotNames()) return [];
        VBuffer<ReadOnlyMemory<char>> names = default;
        score.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToList();
    }

    /// <summary>Model input row.</summary>
    public sealed class Input
    {
        /// <summary>Path of the image file.</summary>
        public string ImagePath { get; set; } = "";
    }

    /// <summary>Model output row.</summary>
    public sealed class Output
    {
        /// <summary>The most likely label.</summary>
        public string PredictedLabel { get; set; } = "";

        /// <summary>One score per class.</summary>
        public float[] Score { get; set; } = [];
    }
}
