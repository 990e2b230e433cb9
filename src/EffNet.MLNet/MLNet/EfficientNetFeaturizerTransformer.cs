using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>
/// Adds EfficientNet features to every row. <see cref="Transform"/> batches rows into one
/// ONNX Runtime run per <see cref="EfficientNetFeaturizerOptions.BatchSize"/> images; saving
/// writes the equivalent chain of stock ML.NET transforms, so the saved model loads without
/// this library.
/// </summary>
public sealed class EfficientNetFeaturizerTransformer : ITransformer, IDisposable
{
    private readonly ITransformer _stock;
    private readonly ITransformer _preprocess;
    private readonly ITransformer? _checkedPreprocess;
    private readonly string _checkedColumn;
    private readonly StockFeaturizerChain _chain;
    private readonly Lazy<FeatureSession> _session;
    private readonly EfficientNetFeaturizerOptions _options;
    private readonly bool _fastPath;
    private readonly bool _inputIsPath;
    private readonly FeaturizerContext _context;

    internal EfficientNetFeaturizerTransformer(TransformsCatalog transforms, FeaturizerContext context, EfficientNetBackbone backbone, string output, string input,
        DataViewType inputType, EfficientNetFeaturizerOptions options, IDataView data)
    {
        _context = context;
        Backbone = backbone;
        OutputColumnName = output;
        InputColumnName = input;
        BatchSize = options.BatchSize;
        _options = options;
        _inputIsPath = inputType is TextDataViewType;
        _fastPath = options.FastDecode && _inputIsPath;
        if (backbone.Preprocessing == Preprocessing.TorchvisionExact && !_fastPath)
            throw new ArgumentException($"Preprocessing.TorchvisionExact needs FastDecode on and an image-path column ('{input}' is {inputType}): stock ML.NET's ResizeImages cannot resize as torchvision does.", nameof(options));
        FeatureSession.EnsureAvailable(options.ExecutionProvider, options.CudaDeviceId);
        _chain = new StockFeaturizerChain(transforms, backbone, output, input, inputType, options);
        _stock = _chain.Full.Fit(data);
        _preprocess = _chain.Preprocess.Fit(data);
        // The same preprocessing from an image column that CheckedImageView loads after checking each path.
        _checkedColumn = output + "__effnet_checked";
        _checkedPreprocess = _inputIsPath
            ? new StockFeaturizerChain(transforms, backbone, output, _checkedColumn, new Microsoft.ML.Transforms.Image.ImageDataViewType(), options).Preprocess
                .Fit(new CheckedImageView(data, input, _checkedColumn, null, false))
            : null;
        _session = new Lazy<FeatureSession>(() => new FeatureSession(backbone.ToBytes(), options.Threads, options.ExecutionProvider, options.CudaDeviceId));
        context.Info($"Featurizer fitted: column '{input}' to '{output}', {(_fastPath ? "the fast decoder" : "ML.NET's image transforms")}, batches of {BatchSize}.");
    }

    /// <summary>The backbone that computes the features.</summary>
    public EfficientNetBackbone Backbone { get; }

    /// <summary>The feature column.</summary>
    public string OutputColumnName { get; }

    /// <summary>The image column.</summary>
    public string InputColumnName { get; }

    /// <summary>
    /// The backbone's identity plus the versions of the code that computes the features (graph,
    /// batch-norm folding, random weights, the fast decoder or ML.NET's own transforms, the native
    /// imaging library, the ONNX Runtime version and the execution provider): everything a feature cache must be keyed by.
    /// </summary>
    public string FeatureIdentity => Backbone.Identity + ";" + FeatureVersions.Current.Describe(_fastPath, Backbone.HasRandomWeights, _options.ExecutionProvider);

    /// <summary>Images per ONNX Runtime run.</summary>
    public int BatchSize { get; }

    /// <summary>The stock ML.NET chain this transformer saves as (and uses for single-row prediction).</summary>
    public ITransformer StockEquivalent => _stock;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The input has no image column of that name, or it is not a path or an MLImage (ML.NET's schema mismatch).</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _stock.GetOutputSchema(Checked(inputSchema));

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The input has no image column of that name, or it is not a path or an MLImage (ML.NET's schema mismatch).</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _stock.GetRowToRowMapper(Checked(inputSchema));

    // Our own check before the stock chain's, so the message names the featurizer's column and what it accepts.
    private DataViewSchema Checked(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ImageColumnCheck.ItemType(inputSchema, InputColumnName, nameof(inputSchema));
        return inputSchema;
    }

    /// <summary>
    /// Adds the feature column. Images are decoded as rows are read; an image that is not usable
    /// (missing, not an image, damaged, or truncated unless <see cref="EfficientNetFeaturizerOptions.AcceptTruncatedImages"/>)
    /// makes the cursor throw <see cref="Imaging.BadImageException"/> naming it when it reaches that row,
    /// or, with <see cref="BadImageHandling.MissingFeatures"/>, gives the row NaN features
    /// (see <see cref="EfficientNetFeaturizerOptions.OnBadImage"/>).
    /// </summary>
    public IDataView Transform(IDataView input) => TransformWith(input, _options.OnBadImage, _options.OnImageIssue);

    /// <summary>
    /// <see cref="Transform(IDataView)"/> with the bad-image handling and issue report given here rather than in the options;
    /// with <paramref name="content"/>, each image is read once and the hash of the bytes decoded recorded for its row.
    /// </summary>
    internal IDataView TransformWith(IDataView input, BadImageHandling onBadImage, Action<Imaging.ImageIssue>? report, Imaging.DecodedContent? content = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var schema = GetOutputSchema(input.Schema);
        var session = _session.Value;
        var accept = _options.AcceptTruncatedImages;
        Func<IFeatureBatches> batches = _fastPath
            ? () => new PathBatches(input, InputColumnName, _options.ImageFolder, session, BatchSize, DecodeThreads(_options), accept, Backbone.Preparation, content)
            : () => StockBatches(input, session, accept, content);
        return new FeaturizedDataView(input, batches, schema, OutputColumnName, Backbone.FeatureDimension, BatchSize, onBadImage, report, _context);
    }

    private PixelBatches StockBatches(IDataView input, FeatureSession session, bool acceptTruncated, Imaging.DecodedContent? content)
    {
        if (_checkedPreprocess is null) return new PixelBatches(_preprocess.Transform(input), _chain.PixelsColumn, session, BatchSize);
        var checkedInput = new CheckedImageView(input, InputColumnName, _checkedColumn, _options.ImageFolder, acceptTruncated, content);
        return new PixelBatches(_checkedPreprocess.Transform(checkedInput), _chain.PixelsColumn, session, BatchSize, checkedInput.Issues);
    }

    private static int DecodeThreads(EfficientNetFeaturizerOptions o) => o.DecodeThreads > 0 ? o.DecodeThreads : Environment.ProcessorCount;

    /// <summary>Saves the stock equivalent: the model reloads as a plain ML.NET TransformerChain.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_stock).Save(ctx);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_session.IsValueCreated) _session.Value.Dispose();
        (_stock as IDisposable)?.Dispose();
    }
}
