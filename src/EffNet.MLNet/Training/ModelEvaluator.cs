using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Training;

/// <summary>Metrics of a saved image classifier (<c>ImagePath</c> in; <c>PredictedLabel</c>, <c>Score</c> out) on labelled images.</summary>
public static class ModelEvaluator
{
    /// <summary>Evaluate <paramref name="model"/>; <paramref name="labels"/> are its classes in <c>Score</c> order.</summary>
    /// <exception cref="InvalidDataException">An image has a label the model does not know.</exception>
    public static ClassificationMetrics Evaluate(MLContext ml, ITransformer model, IReadOnlyList<string> labels, IReadOnlyList<LabeledImage> images)
    {
        ArgumentNullException.ThrowIfNull(ml);
        var known = labels.ToHashSet(StringComparer.Ordinal);
        var unknown = images.FirstOrDefault(i => !known.Contains(i.Label));
        if (unknown is not null)
            throw new InvalidDataException($"'{unknown.ImagePath}' is labelled '{unknown.Label}', which the model does not know (it knows {string.Join(", ", labels)}).");

        // In path order, so the same images give the same metrics to the last bit whatever order they came in.
        var ordered = images.OrderBy(i => i.ImagePath, StringComparer.Ordinal).ThenBy(i => i.Label, StringComparer.Ordinal);
        var data = ml.Data.LoadFromEnumerable(ordered.Select(i => new Row { ImagePath = i.ImagePath, Label = i.Label }));
        // Keys in the model's label order, so they line up with the Score vector.
        var keyData = ml.Data.LoadFromEnumerable(labels.Select(l => new KeyRow { Value = l }));
        var scored = model.Transform(data);
        var keyed = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label", keyData: keyData)
            .Append(ml.Transforms.Conversion.MapValueToKey("PredictedKey", "PredictedLabel", keyData: keyData))
            .Fit(scored).Transform(scored);
        var metrics = ml.MulticlassClassification.Evaluate(keyed, labelColumnName: "LabelKey", scoreColumnName: "Score", predictedLabelColumnName: "PredictedKey");
        return ClassificationMetrics.From(metrics, labels);
    }

    private sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class KeyRow
    {
        public string Value { get; set; } = "";
    }
}
