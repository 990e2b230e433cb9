using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Training;

/// <summary>
/// Images already turned into features, held in memory: iterative trainers make many passes,
/// and each pass over this costs nothing, where each pass over images would re-run the backbone.
/// </summary>
public sealed class FeatureTable
{
    /// <summary>Create a table; every feature vector must have <paramref name="dimension"/> entries.</summary>
    public FeatureTable(IReadOnlyList<LabeledImage> images, IReadOnlyList<float[]> features, int dimension)
    {
        if (images.Count != features.Count) throw new ArgumentException("One feature vector per image is needed.");
        if (features.Any(f => f.Length != dimension)) throw new ArgumentException($"Every feature vector must have {dimension} entries.");
        Images = images;
        Features = features;
        Dimension = dimension;
    }

    /// <summary>The images, in order.</summary>
    public IReadOnlyList<LabeledImage> Images { get; }

    /// <summary>Their feature vectors.</summary>
    public IReadOnlyList<float[]> Features { get; }

    /// <summary>Feature vector length.</summary>
    public int Dimension { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Images.Count;

    /// <summary>The rows at <paramref name="indices"/> as an IDataView with <c>ImagePath</c>, <c>Label</c> and <c>Features</c>.</summary>
    public IDataView ToDataView(MLContext ml, IEnumerable<int>? indices = null)
    {
        var rows = (indices ?? Enumerable.Range(0, Count))
            .Select(i => new Row { ImagePath = Images[i].ImagePath, Label = Images[i].Label, Features = Features[i] }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>The example-weight column of <see cref="ToDataView(MLContext, IEnumerable{int}?, IReadOnlyDictionary{string, double}?)"/>.</summary>
    internal const string WeightColumn = "Weight";

    /// <summary>As <see cref="ToDataView(MLContext, IEnumerable{int}?)"/>, plus a <c>Weight</c> column holding each row's class weight when <paramref name="classWeights"/> is given.</summary>
    internal IDataView ToDataView(MLContext ml, IEnumerable<int>? indices, IReadOnlyDictionary<string, double>? classWeights)
    {
        if (classWeights is null) return ToDataView(ml, indices);
        var rows = (indices ?? Enumerable.Range(0, Count))
            .Select(i => new WeightedRow { ImagePath = Images[i].ImagePath, Label = Images[i].Label, Features = Features[i], Weight = (float)classWeights[Images[i].Label] }).ToList();
        var schema = SchemaDefinition.Create(typeof(WeightedRow));
        schema[nameof(WeightedRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    private sealed class WeightedRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
        public float[] Features { get; set; } = [];
        public float Weight { get; set; }
    }

    private sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
        public float[] Features { get; set; } = [];
    }
}
