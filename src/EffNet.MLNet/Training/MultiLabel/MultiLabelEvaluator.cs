using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>Runs a saved multi-label model (<c>ImagePath</c> in, a <c>Probability</c> vector out) on images.</summary>
public static class MultiLabelEvaluator
{
    /// <summary>The model's <c>Probability</c> vector for each of <paramref name="imagePaths"/>, in their order.</summary>
    public static IReadOnlyList<float[]> Probabilities(MLContext ml, ITransformer model, IReadOnlyList<string> imagePaths)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(model);
        var scored = model.Transform(ml.Data.LoadFromEnumerable(imagePaths.Select(p => new PathRow { ImagePath = p })));
        return ReadVectors(scored, MultiLabelTrainer.ProbabilityColumn);
    }

    /// <summary>Metrics of <paramref name="model"/> on <paramref name="images"/> at <paramref name="thresholds"/> (one per label, in <paramref name="labels"/> order).</summary>
    /// <exception cref="InvalidDataException">An image carries a label the model does not know.</exception>
    public static MultiLabelMetrics Evaluate(MLContext ml, ITransformer model, IReadOnlyList<string> labels, IReadOnlyList<float> thresholds, IReadOnlyList<MultiLabeledImage> images)
    {
        var known = labels.ToHashSet(StringComparer.Ordinal);
        if (images.FirstOrDefault(i => i.Labels.Any(l => !known.Contains(l))) is { } unknown)
            throw new InvalidDataException($"'{unknown.ImagePath}' carries the label '{InertText.Name(unknown.Labels.First(l => !known.Contains(l)))}', which the model does not know (it knows {InertText.Line(string.Join(", ", labels))}).");
        var probabilities = Probabilities(ml, model, images.Select(i => i.ImagePath).ToList());
        return MultiLabelMetrics.From(labels, thresholds, probabilities, Truth(labels, images));
    }

    /// <summary>A row per image, a column per label: whether the image carries it.</summary>
    internal static IReadOnlyList<bool[]> Truth(IReadOnlyList<string> labels, IEnumerable<MultiLabeledImage> images) =>
        images.Select(i => labels.Select(l => i.Labels.Contains(l, StringComparer.Ordinal)).ToArray()).ToList();

    internal static List<float[]> ReadVectors(IDataView data, string column)
    {
        var rows = new List<float[]>();
        using var cursor = data.GetRowCursor([data.Schema[column]]);
        var getter = cursor.GetGetter<VBuffer<float>>(data.Schema[column]);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            rows.Add(buffer.DenseValues().ToArray());
        }
        return rows;
    }

    internal static List<float> ReadScalars(IDataView data, string column)
    {
        var values = new List<float>();
        using var cursor = data.GetRowCursor([data.Schema[column]]);
        var getter = cursor.GetGetter<float>(data.Schema[column]);
        float value = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            values.Add(value);
        }
        return values;
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
