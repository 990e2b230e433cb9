using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet;

/// <summary>
/// One loaded version of a model file: the model, loaded once and shared by every engine (ONNX
/// Runtime's <c>Run</c> is thread-safe, so engines differ only in their small row buffers), and a
/// pool of prediction engines over it. A reload makes a new generation; the old one is disposed
/// when the last request that leased it returns, so no in-flight prediction fails.
/// </summary>
internal sealed class ModelGeneration : IDisposable
{
    private readonly ObjectPool<PredictionEngine<ImageRow, ScoreRow>> _engines;
    private readonly SchemaDefinition _inputDefinition;
    private readonly SchemaDefinition _outputDefinition;
    private readonly int? _square;
    private int _leases = 1; // the owner's own lease, returned by Retire
    private bool _retired;
    private bool _disposed;

    public ModelGeneration(MLContext ml, byte[] modelBytes, string path, DateTime fileTimeUtc, int maxRetainedEngines, RecordedThresholds? multiLabel = null)
    {
        Ml = ml;
        FileTimeUtc = fileTimeUtc;
        FileLength = modelBytes.LongLength;
        ITransformer saved;
        DataViewSchema? savedInput;
        using (var stream = new MemoryStream(modelBytes, writable: false))
            (saved, savedInput) = SavedModel.LoadWithSchema(ml, stream, path);
        try
        {
            Serving = ServingModel.From(saved, savedInput, path, multiLabel is not null);
            Labels = multiLabel is null ? Serving.Labels() : CheckedLabels(Serving, multiLabel, path);
        }
        catch
        {
            (saved as IDisposable)?.Dispose();   // its ONNX Runtime session
            throw;
        }
        _square = FindSquare(ml, Serving);
        _inputDefinition = SchemaDefinition.Create(typeof(ImageRow));
        _inputDefinition[0].ColumnName = Serving.ImageColumn;
        // OwnsTransformer = false: an engine leaving the pool must not dispose the model (and its ONNX
        // Runtime session) that the other engines share; that was the "crash under concurrency".
        Thresholds = multiLabel?.Thresholds ?? [];
        // A multi-label model's probabilities land in ScoreRow.Score; it has no PredictedLabel (the thresholds decide).
        _outputDefinition = SchemaDefinition.Create(typeof(ScoreRow));
        if (multiLabel is not null) _outputDefinition[nameof(ScoreRow.Score)].ColumnName = Training.MultiLabel.MultiLabelTrainer.ProbabilityColumn;
        var engineOptions = new PredictionEngineOptions
        {
            IgnoreMissingColumns = true, InputSchemaDefinition = _inputDefinition, OutputSchemaDefinition = _outputDefinition, OwnsTransformer = false,
        };
        var policy = new EnginePolicy(() => ml.Model.CreatePredictionEngine<ImageRow, ScoreRow>(Serving.Model, engineOptions));
        _engines = new DefaultObjectPoolProvider { MaximumRetained = maxRetainedEngines }.Create(policy);
    }

    public MLContext Ml { get; }

    public ServingModel Serving { get; }

    public IReadOnlyList<string> Labels { get; }

    /// <summary>Per label, the probability at or over which a multi-label model predicts it; empty for a single-label model.</summary>
    public IReadOnlyList<float> Thresholds { get; }

    private static IReadOnlyList<string> CheckedLabels(ServingModel serving, RecordedThresholds recorded, string path)
    {
        Training.MultiLabel.MultiLabelSlots.RequireReportLabels(serving.Labels(Training.MultiLabel.MultiLabelTrainer.ProbabilityColumn),
            recorded.Labels, RecordedPreprocessing.ReportPath(path), path);
        return recorded.Labels;
    }

    /// <summary>The preprocessing applied before the saved chain (torchvision's, as recorded in model.json); null: the chain's own.</summary>
    public Imaging.ImagePreparation? Preparation { get; init; }

    /// <summary>
    /// How a request's decode becomes this model's input with no second full-size copy: torchvision's square when
    /// <see cref="Preparation"/> records it, else the square the model's own resize would make (when
    /// <see cref="ServingInputSquare"/> finds one), else null: the model gets the whole image.
    /// </summary>
    public Imaging.MLImageDecoder.ImageReduction? Reduce => Preparation is { } preparation
        ? (_, decoded) => preparation.ToSquareImage(decoded)
        : _square is int size
            ? (name, decoded) =>
            {
                using var square = Imaging.FastImageDecoder.Square(name, decoded, size);
                return MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, square.GetPixelSpan());
            }
            : null;

    /// <summary>The side of the square the model resizes to, when serving may make it (see <see cref="ServingInputSquare"/>).</summary>
    internal int? InputSquare => _square;

    // Probing a foreign model's resize may fail in ways its authors never saw; the full image is then always right.
    private static int? FindSquare(MLContext ml, ServingModel serving)
    {
        try { return ServingInputSquare.Find(ml, serving); }
        catch (Exception ex) when (ex is not OutOfMemoryException) { return null; }
    }

    /// <summary>The model file's last write time and length when this generation was read.</summary>
    public DateTime FileTimeUtc { get; }

    public long FileLength { get; }

    /// <summary>Take a lease for one request; false once the generation has been retired and drained.</summary>
    public bool TryLease()
    {
        lock (_engines)
        {
            if (_disposed || _retired) return false;
            _leases++;
            return true;
        }
    }

    public void Return() => Release();

    /// <summary>The owner lets go: the generation is disposed once the requests still holding it return.</summary>
    public void Retire()
    {
        lock (_engines)
        {
            if (_retired) return;
            _retired = true;
        }
        Release();
    }

    public ScoreRow Predict(MLImage image)
    {
        var engine = _engines.Get();
        try { return engine.Predict(new ImageRow { Image = image }); }
        finally { _engines.Return(engine); }
    }

    /// <summary>Score many decoded images in one pass over the model.</summary>
    public List<ScoreRow> PredictMany(IReadOnlyList<MLImage> images)
    {
        var rows = Ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { Image = i }), _inputDefinition);
        return Ml.Data.CreateEnumerable<ScoreRow>(Serving.Model.Transform(rows), reuseRowObject: false, ignoreMissingColumns: true, _outputDefinition).ToList();
    }

    public void Dispose() => Retire();

    private void Release()
    {
        lock (_engines)
        {
            if (--_leases > 0) return;
            _disposed = true;
        }
        (_engines as IDisposable)?.Dispose();
        (Serving.Model as IDisposable)?.Dispose();
    }

    private sealed class EnginePolicy(Func<PredictionEngine<ImageRow, ScoreRow>> create) : IPooledObjectPolicy<PredictionEngine<ImageRow, ScoreRow>>
    {
        public PredictionEngine<ImageRow, ScoreRow> Create() => create();

        public bool Return(PredictionEngine<ImageRow, ScoreRow> engine) => true;
    }

    /// <summary>Model input: one decoded image (its column is renamed to the model's image column).</summary>
    internal sealed class ImageRow
    {
        // ResizeImages takes an image of any actual size; the declared size is only a type tag (and
        // ML.NET 5's parameterless ImageType attribute throws).
        [ImageType(1, 1)]
        public MLImage? Image { get; set; }
    }

    /// <summary>Model output.</summary>
    internal sealed class ScoreRow
    {
        public string PredictedLabel { get; set; } = "";

        public float[] Score { get; set; } = [];
    }
}
