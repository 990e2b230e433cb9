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
    private readonly StockFeaturizerChain _chain;
    private readonly Lazy<FeatureSession> _session;
    private readonly EfficientNetFeaturizerOptions _options;
    private readonly bool _fastPath;

    internal EfficientNetFeaturizerTransformer(MLContext ml, EfficientNetBackbone backbone, string output, string input, DataViewType inputType,
        EfficientNetFeaturizerOptions options, IDataView data)
    {
        Backbone = backbone;
        OutputColumnName = output;
        InputColumnName = input;
        BatchSize = options.BatchSize;
        _options = options;
        _fastPath = options.FastDecode && inputType is TextDataViewType;
        _chain = new StockFeaturizerChain(ml, backbone, output, input, inputType, options);
        _stock = _chain.Full.Fit(data);
        _preprocess = _chain.Preprocess.Fit(data);
        _session = new Lazy<FeatureSession>(() => new FeatureSession(backbone.ToBytes(), options.Threads, options.ExecutionProvider, options.CudaDeviceId));
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
    /// imaging library): everything a feature cache must be keyed by.
    /// </summary>
    public string FeatureIdentity => Backbone.Identity + ";" + FeatureVersions.Current.Describe(_fastPath, Backbone.HasRandomWeights);

    /// <summary>Images per ONNX Runtime run.</summary>
    public int BatchSize { get; }

    /// <summary>The stock ML.NET chain this transformer saves as (and uses for single-row prediction).</summary>
    public ITransformer StockEquivalent => _stock;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _stock.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _stock.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var schema = GetOutputSchema(input.Schema);
        var session = _session.Value;
        Func<IFeatureBatches> batches = _fastPath
            ? () => new PathBatches(input, InputColumnName, _options.ImageFolder, session, BatchSize, DecodeThreads(_options))
            : () => new PixelBatches(_preprocess.Transform(input), _chain.PixelsColumn, session, BatchSize);
        return new FeaturizedDataView(input, batches, schema, OutputColumnName, Backbone.FeatureDimension, BatchSize);
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
