using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet;

/// <summary>
/// A saved image classifier rearranged to take a decoded image: the chain without its
/// <c>LoadImages</c> step (when it starts from paths) and without the steps that only training
/// needed (a <c>MapValueToKey</c> of the label, whatever the label column was called). The
/// remaining transforms are the saved ones, unchanged, so predictions equal the saved model's.
/// </summary>
internal sealed class ServingModel
{
    private ServingModel(ITransformer model, string imageColumn, DataViewSchema outputSchema)
    {
        Model = model;
        ImageColumn = imageColumn;
        OutputSchema = outputSchema;
    }

    /// <summary>The model from a decoded image in <see cref="ImageColumn"/> to <c>PredictedLabel</c> and <c>Score</c>.</summary>
    public ITransformer Model { get; }

    /// <summary>The column an <see cref="MLImage"/> goes in.</summary>
    public string ImageColumn { get; }

    /// <summary>What <see cref="Model"/> produces.</summary>
    public DataViewSchema OutputSchema { get; }

    // A schema of one image column named column.
    private static DataViewSchema ImageSchema(string column)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(column, new ImageDataViewType());
        return builder.ToSchema();
    }

    /// <summary>Rearrange <paramref name="saved"/> (loaded from <paramref name="path"/>, with its saved input schema).</summary>
    /// <param name="saved">The loaded model.</param>
    /// <param name="savedInput">Its saved input schema.</param>
    /// <param name="path">The file, for messages.</param>
    /// <param name="multiLabel">The model's report says multi-label: it must produce <c>Probability</c> (one per label) in place of <c>PredictedLabel</c> and <c>Score</c>.</param>
    /// <exception cref="InvalidDataException">The model does not classify images; the message names the file and what is missing.</exception>
    public static ServingModel From(ITransformer saved, DataViewSchema? savedInput, string path, bool multiLabel = false)
    {
        var steps = Flatten(saved).ToList();
        var loaderAt = steps.FindIndex(t => t is ImageLoadingTransformer);
        // ML.NET cannot save an input schema of image columns, so an image-input model (ImageInputModel)
        // is saved without one: its column is then the conventional one.
        var imageColumns = loaderAt >= 0 ? NewImageColumns(steps[loaderAt], savedInput, path)
            : savedInput is null || savedInput.Count == 0 ? [ImageInputModel.DefaultImageColumn]
            : savedInput.Where(c => c.Type is ImageDataViewType).Select(c => c.Name).ToList();
        if (imageColumns.Count != 1)
            throw new InvalidDataException(imageColumns.Count == 0
                ? $"'{path}' neither loads images from a path column (LoadImages) nor takes an image column; it is not an image classifier."
                : $"'{path}' takes {imageColumns.Count} images ({string.Join(", ", imageColumns)}); a classifier of one image takes one.");
        var imageColumn = imageColumns[0];
        if (loaderAt >= 0) steps.RemoveAt(loaderAt);

        // Keep each step that can run on what the image gives; drop the ones that need columns only
        // training had (the label), and everything that depended on them.
        var schema = ImageSchema(imageColumn);
        var kept = new List<ITransformer>();
        foreach (var step in steps)
        {
            try
            {
                schema = step.GetOutputSchema(schema);
                kept.Add(step);
            }
            catch (Exception ex) when (ex is ArgumentOutOfRangeException or ArgumentException or InvalidOperationException)
            {
            }
        }
        if (!multiLabel && schema.GetColumnOrNull("Score") is null && schema.GetColumnOrNull(Training.MultiLabel.MultiLabelTrainer.ProbabilityColumn) is { Type: VectorDataViewType })
            throw new InvalidDataException(
                $"'{path}' is a multi-label model (a Probability vector, no Score) but its model.json, which holds the labels' thresholds, is not beside it; " +
                "put the model.json saved with it next to it.");
        foreach (var required in multiLabel ? [Training.MultiLabel.MultiLabelTrainer.ProbabilityColumn] : new[] { "PredictedLabel", "Score" })
            if (schema.GetColumnOrNull(required) is null)
                throw new InvalidDataException(
                    $"'{path}' does not produce a '{required}' column from an image alone (it produces {string.Join(", ", schema.Select(c => c.Name))}); " +
                    (multiLabel ? "its model.json says it is multi-label; keep beside it the multi-label model that was trained with it (MultiLabelTrainer)."
                        : "save a pipeline that ends with a multiclass trainer and MapKeyToValue(\"PredictedLabel\")."));
        return new ServingModel(new TransformerChain<ITransformer>(kept.ToArray()), imageColumn, schema);
    }

    /// <summary>Class names in the order of the <paramref name="column"/> vector, or empty when the model does not record them.</summary>
    public IReadOnlyList<string> Labels(string column = "Score")
    {
        var score = OutputSchema[column];
        if (!score.HasSlotNames()) return [];
        VBuffer<ReadOnlyMemory<char>> names = default;
        score.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToList();
    }

    // The image columns LoadImages adds (its column list is not public in ML.NET 5).
    private static List<string> NewImageColumns(ITransformer loader, DataViewSchema? savedInput, string path)
    {
        if (savedInput is null) throw new InvalidDataException($"'{path}' loads images from a path column but was saved without its input schema.");
        DataViewSchema loaded;
        try { loaded = loader.GetOutputSchema(savedInput); }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' loads images from a column its saved input schema lacks ({ex.Message}).", ex);
        }
        return loaded.Where(c => c.Type is ImageDataViewType && !c.IsHidden && savedInput.GetColumnOrNull(c.Name) is not { Type: ImageDataViewType })
            .Select(c => c.Name).ToList();
    }

    // Pipelines nest: a fitted EstimatorChain inside another, the featurizer's own stock chain. A
    // fitted (not yet saved) featurizer stands for the stock chain it saves as.
    private static IEnumerable<ITransformer> Flatten(ITransformer model) => model switch
    {
        EfficientNetFeaturizerTransformer featurizer => Flatten(featurizer.StockEquivalent),
        IEnumerable<ITransformer> chain => chain.SelectMany(Flatten),
        _ => [model],
    };
}
