using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet;

/// <summary>
/// Estimator for <see cref="EfficientNetFeaturizerTransformer"/>. Fitting trains nothing: it
/// checks the input column and binds the backbone (resolved once, when the estimator is made).
/// It runs under the <see cref="MLContext"/> whose <c>Transforms</c> made it: messages go to its
/// <see cref="MLContext.Log"/>, and its <c>CancelExecution()</c> stops featurization.
/// </summary>
public sealed class EfficientNetFeaturizerEstimator : IEstimator<EfficientNetFeaturizerTransformer>
{
    private readonly TransformsCatalog _transforms;
    private readonly FeaturizerContext _context;

    internal EfficientNetFeaturizerEstimator(TransformsCatalog transforms, string outputColumnName, string inputColumnName,
        EfficientNetFeaturizerOptions options, EfficientNetBackbone? backbone = null)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        ArgumentNullException.ThrowIfNull(options);
        _transforms = transforms;
        _context = new FeaturizerContext(CatalogEnvironment.Of(transforms) ?? new MLContext(seed: 0), options.CancellationToken);
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        Options = options;
        Backbone = backbone ?? Resolve(options, _context);
    }

    /// <summary>The feature column this adds.</summary>
    public string OutputColumnName { get; }

    /// <summary>The image column it reads.</summary>
    public string InputColumnName { get; }

    /// <summary>The options it was made with.</summary>
    public EfficientNetFeaturizerOptions Options { get; }

    /// <summary>The resolved backbone.</summary>
    public EfficientNetBackbone Backbone { get; }

    /// <inheritdoc />
    public EfficientNetFeaturizerTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var column = input.Schema.GetColumnOrNull(InputColumnName)
            ?? throw MissingColumn(input.Schema.Select(c => c.Name));
        var type = CheckInputType(column.Type, isScalar: column.Type is not VectorDataViewType);
        _context.ThrowIfCancelled();
        return new EfficientNetFeaturizerTransformer(_transforms, _context, Backbone, OutputColumnName, InputColumnName, type, Options, input);
    }

    /// <summary>
    /// The input's columns plus the feature column, a known-size <c>Vector&lt;Single&gt;</c> of
    /// <see cref="EfficientNetBackbone.FeatureDimension"/>. Computed from the backbone alone: no
    /// ONNX Runtime session is opened and no transform is built.
    /// </summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var column = inputSchema.FirstOrDefault(c => c.Name == InputColumnName);
        if (column.Name is null) throw MissingColumn(inputSchema.Select(c => c.Name));
        CheckInputType(column.ItemType, isScalar: column.Kind == SchemaShape.Column.VectorKind.Scalar);
        // A shape records only "known-size vector of Single", which the feature column is for every backbone.
        if (SchemaShapes.KnownSizeVector(OutputColumnName, NumberDataViewType.Single) is { } features)
            return new SchemaShape(inputSchema.Where(c => c.Name != OutputColumnName).Append(features));
        return new StockFeaturizerChain(_transforms, Backbone, OutputColumnName, InputColumnName, column.ItemType, Options).Full.GetOutputSchema(inputSchema);
    }

    private ArgumentException MissingColumn(IEnumerable<string> names) =>
        new($"The input has no column '{InputColumnName}' (it has: {string.Join(", ", names)}).");

    private DataViewType CheckInputType(DataViewType type, bool isScalar)
    {
        var item = type is VectorDataViewType vector ? vector.ItemType : type;
        if (!isScalar && item == NumberDataViewType.Byte)
            throw new ArgumentException(
                $"Column '{InputColumnName}' holds encoded image bytes, which ML.NET's saved image transforms cannot decode; " +
                "make an MLImage column instead (MLImage.CreateFromStream in your input class, or LoadImages from paths).");
        if (!isScalar || item is not (TextDataViewType or ImageDataViewType))
            throw new ArgumentException($"Column '{InputColumnName}' is {type}; expected an image path (string) or an MLImage.");
        return item;
    }

    private static EfficientNetBackbone Resolve(EfficientNetFeaturizerOptions options, FeaturizerContext context)
    {
        context.ThrowIfCancelled();
        // Seeded random weights without a seed of their own take one from the context, as ML.NET's components do.
        var effective = options.RandomInit && options.Seed is null ? options with { Seed = context.DrawSeed() } : options;
        var backbone = EfficientNetBackbone.Resolve(effective,
            variant => DownloadLog.EnsureWeights(Catalog.PretrainedCatalog.Default, variant.Name, context));
        context.Info($"Backbone {backbone.Identity}: {backbone.FeatureDimension} features per image.");
        return backbone;
    }
}
