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
    /// <exception cref="ArgumentOutOfRangeException">The input has no image column of that name, or it is not a path or an MLImage (ML.NET's schema mismatch).</exception>
    public EfficientNetFeaturizerTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var type = ImageColumnCheck.ItemType(input.Schema, InputColumnName, nameof(input));
        _context.ThrowIfCancelled();
        return new EfficientNetFeaturizerTransformer(_transforms, _context, Backbone, OutputColumnName, InputColumnName, type, Options, input);
    }

    /// <summary>
    /// The input's columns plus the feature column, a known-size <c>Vector&lt;Single&gt;</c> of
    /// <see cref="EfficientNetBackbone.FeatureDimension"/>. Computed from the backbone alone: no
    /// ONNX Runtime session is opened and no transform is built.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The input has no image column of that name, or it is not a path or an MLImage (ML.NET's schema mismatch).</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var itemType = ImageColumnCheck.ItemType(inputSchema, InputColumnName, nameof(inputSchema));
        // A shape records only "known-size vector of Single", which the feature column is for every backbone.
        if (SchemaShapes.KnownSizeVector(OutputColumnName, NumberDataViewType.Single) is { } features)
            return new SchemaShape(inputSchema.Where(c => c.Name != OutputColumnName).Append(features));
        return new StockFeaturizerChain(_transforms, Backbone, OutputColumnName, InputColumnName, itemType, Options).Full.GetOutputSchema(inputSchema);
    }

    private static EfficientNetBackbone Resolve(EfficientNetFeaturizerOptions options, FeaturizerContext context)
    {
        context.ThrowIfCancelled();
        // Seeded random weights without a seed of their own take one from the context, as ML.NET's components do.
        var effective = options.RandomInit && options.Seed is null ? options with { Seed = context.DrawSeed() } : options;
        var backbone = EfficientNetBackbone.Resolve(effective,
            variant => DownloadLog.EnsureWeights(Catalog.PretrainedCatalog.Default, variant.Name, context));
        context.Info($"Backbone {backbone.Identity}: {backbone.FeatureDimension} features per image.");
        if (backbone.Int8Fidelity?.Warning is { } warning) context.Warning(warning);
        return backbone;
    }
}
