using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>
/// Turns a trained image classifier that reads image paths into one that takes a decoded
/// <see cref="MLImage"/>, so a program with only stock ML.NET can classify images it holds in
/// memory (a web upload): <c>MLImage.CreateFromStream</c> on the bytes, then an ordinary
/// <c>PredictionEngine</c>. The saved result loads with Microsoft.ML, ImageAnalytics and
/// OnnxTransformer alone, like the path model.
/// </summary>
/// <example>
/// <code>
/// // Once, where the model is trained:
/// ImageInputModel.Save(ml, model, data.Schema, "model-images.zip");
///
/// // In the serving program (stock ML.NET only):
/// public sealed class ModelInput
/// {
///     [ImageType(224, 224)]   // any size: the model resizes
///     public MLImage Image { get; set; } = null!;
/// }
/// var engine = ml.Model.CreatePredictionEngine&lt;ModelInput, ModelOutput&gt;(ml.Model.Load("model-images.zip", out _));
/// using var image = MLImage.CreateFromStream(new MemoryStream(bytes));
/// var prediction = engine.Predict(new ModelInput { Image = image });
/// </code>
/// </example>
public static class ImageInputModel
{
    /// <summary>The input column of the models this makes, unless another name is given.</summary>
    public const string DefaultImageColumn = "Image";

    /// <summary>
    /// The classifier <paramref name="model"/> (fitted on <paramref name="inputSchema"/>, reading a path
    /// or an image column) rearranged to take an <see cref="MLImage"/> in <paramref name="imageColumn"/>.
    /// Steps that needed the label column in training are left out; the others are the same objects.
    /// </summary>
    /// <exception cref="InvalidDataException">The model is not an image classifier (no single image input, no <c>PredictedLabel</c>/<c>Score</c>).</exception>
    public static ITransformer Create(MLContext ml, ITransformer model, DataViewSchema inputSchema, string imageColumn = DefaultImageColumn)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentException.ThrowIfNullOrWhiteSpace(imageColumn);
        var serving = ServingModel.From(model, inputSchema, "the model");
        if (serving.ImageColumn == imageColumn) return serving.Model;
        var copy = ml.Transforms.CopyColumns(serving.ImageColumn, imageColumn).Fit(EmptyImages(ml, imageColumn));
        return new TransformerChain<ITransformer>(copy, serving.Model);
    }

    /// <summary>
    /// <see cref="Create"/>, then save the result to <paramref name="path"/>. (ML.NET cannot store an
    /// input schema of image columns, so none is stored; the input is the <see cref="DefaultImageColumn"/>
    /// column, which is why the column name is fixed here.)
    /// </summary>
    public static void Save(MLContext ml, ITransformer model, DataViewSchema inputSchema, string path)
    {
        var images = Create(ml, model, inputSchema, DefaultImageColumn);
        ml.Model.Save(images, null, path);
    }

    private static IDataView EmptyImages(MLContext ml, string column)
    {
        var definition = SchemaDefinition.Create(typeof(ModelGeneration.ImageRow));
        definition[0].ColumnName = column;
        return ml.Data.LoadFromEnumerable(Array.Empty<ModelGeneration.ImageRow>(), definition);
    }
}
