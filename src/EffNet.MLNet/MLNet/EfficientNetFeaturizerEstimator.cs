using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet;

/// <summary>
/// Estimator for <see cref="EfficientNetFeaturizerTransformer"/>. Fitting trains nothing: it
/// checks the input column and binds the backbone (resolved once, when the estimator is made).
/// </summary>
public sealed class EfficientNetFeaturizerEstimator : IEstimator<EfficientNetFeaturizerTransformer>
{
    private readonly MLContext _ml = new(seed: 0);

    internal EfficientNetFeaturizerEstimator(string outputColumnName, string inputColumnName, EfficientNetFeaturizerOptions options, EfficientNetBackbone? backbone = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        Options = options;
        Backbone = backbone ?? EfficientNetBackbone.Resolve(options);
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
        var type = InputType(input.Schema);
        return new EfficientNetFeaturizerTransformer(_ml, Backbone, OutputColumnName, InputColumnName, type, Options, input);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var column = inputSchema.FirstOrDefault(c => c.Name == InputColumnName);
        if (column.Name is null)
            throw new ArgumentException($"The input has no column '{InputColumnName}' (it has: {string.Join(", ", inputSchema.Select(c => c.Name))}).");
        DataViewType type = column.ItemType is ImageDataViewType ? column.ItemType : TextDataViewType.Instance;
        return new StockFeaturizerChain(_ml, Backbone, OutputColumnName, InputColumnName, type, Options).Full.GetOutputSchema(inputSchema);
    }

    private DataViewType InputType(DataViewSchema schema)
    {
        var column = schema.GetColumnOrNull(InputColumnName)
            ?? throw new ArgumentException($"The input has no column '{InputColumnName}' (it has: {string.Join(", ", schema.Select(c => c.Name))}).");
        var type = column.Type;
        if (type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Byte)
            throw new ArgumentException(
                $"Column '{InputColumnName}' holds encoded image bytes, which ML.NET's saved image transforms cannot decode; " +
                "make an MLImage column instead (MLImage.CreateFromStream in your input class, or LoadImages from paths).");
        if (type is not (TextDataViewType or ImageDataViewType))
            throw new ArgumentException($"Column '{InputColumnName}' is {type}; expected an image path (string) or an MLImage.");
        return type;
    }
}
