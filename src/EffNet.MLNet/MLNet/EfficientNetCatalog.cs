using Microsoft.ML;

namespace EffNet.MLNet;

/// <summary>EfficientNet featurization on <see cref="TransformsCatalog"/> (<c>mlContext.Transforms</c>).</summary>
public static class EfficientNetCatalog
{
    /// <summary>
    /// Turn each image into an EfficientNet embedding: a known-size float vector column that
    /// ML.NET trainers take as features.
    /// </summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="outputColumnName">Name of the new feature column, a <c>Vector&lt;Single&gt;</c> of the backbone's feature size.</param>
    /// <param name="inputColumnName">
    /// The image column: a file path (<c>string</c>, resolved against <see cref="EfficientNetFeaturizerOptions.ImageFolder"/>),
    /// or an <c>MLImage</c> (from <c>LoadImages</c>, or from encoded bytes with <c>MLImage.CreateFromStream</c>).
    /// </param>
    /// <param name="options">Backbone and runtime options; default: pretrained B0.</param>
    /// <remarks>
    /// The featurizer runs under the <see cref="MLContext"/> that owns <paramref name="catalog"/>: its
    /// <see cref="MLContext.Log"/> receives the weight download or cache hit, progress while images are
    /// featurized and every bad image given NaN features; <see cref="EfficientNetFeaturizerOptions.RandomInit"/>
    /// weights without a <see cref="EfficientNetFeaturizerOptions.Seed"/> take theirs from the context's seed;
    /// and <c>mlContext.CancelExecution()</c> (Microsoft.ML.Experimental), like
    /// <see cref="EfficientNetFeaturizerOptions.CancellationToken"/>, stops featurization with an
    /// <see cref="OperationCanceledException"/>. Pretrained weights are resolved (downloaded once) by this call.
    /// </remarks>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    ///     .Append(mlContext.Transforms.ExtractEfficientNetFeatures("Features", "ImagePath",
    ///         new EfficientNetFeaturizerOptions { Variant = "b0" }))
    ///     .AppendCacheCheckpoint(mlContext)   // featurize once: iterative trainers make many passes
    ///     .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
    ///     .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
    ///     .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    /// </code>
    /// </example>
    public static EfficientNetFeaturizerEstimator ExtractEfficientNetFeatures(
        this TransformsCatalog catalog,
        string outputColumnName = "Features",
        string inputColumnName = "ImagePath",
        EfficientNetFeaturizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new EfficientNetFeaturizerEstimator(catalog, outputColumnName, inputColumnName, options ?? new EfficientNetFeaturizerOptions());
    }

    /// <summary>Featurize with an already resolved backbone (shared between pipelines, or built from a custom graph).</summary>
    public static EfficientNetFeaturizerEstimator ExtractEfficientNetFeatures(
        this TransformsCatalog catalog, EfficientNetBackbone backbone,
        string outputColumnName = "Features", string inputColumnName = "ImagePath", EfficientNetFeaturizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new EfficientNetFeaturizerEstimator(catalog, outputColumnName, inputColumnName, options ?? new EfficientNetFeaturizerOptions(), backbone);
    }
}
