using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Tests;

/// <summary>Schema propagation (what EstimatorChain.Fit asks first) costs no ONNX Runtime session.</summary>
public class OutputSchemaTests
{
    private static readonly Lazy<EfficientNetBackbone> RandomB0 = new(() =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 7 }));

    [Fact]
    public void GetOutputSchema_builds_no_chain_and_opens_no_session_while_Fit_does()
    {
        var ml = new MLContext(seed: 1);
        var (data, input) = Input(ml, 2);
        var estimator = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value);

        var (built, sessions) = (StockFeaturizerChain.Built, StockFeaturizerChain.FullChainsBuilt);
        var shape = estimator.GetOutputSchema(input);
        Assert.Equal((built, sessions), (StockFeaturizerChain.Built, StockFeaturizerChain.FullChainsBuilt));

        // The seam counts: fitting builds the chain and its session on this thread.
        using var transformer = estimator.Fit(data);
        Assert.True(StockFeaturizerChain.FullChainsBuilt > sessions);

        // The shape is the one the fitted transformer's schema has.
        var fitted = transformer.GetOutputSchema(data.Schema);
        Assert.Equal(fitted.Select(c => c.Name), shape.Select(c => c.Name));
        var features = shape.Single(c => c.Name == "Features");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, features.Kind);
        Assert.Equal(NumberDataViewType.Single, features.ItemType);
        Assert.False(features.IsKey);
        Assert.Equal(1280, ((VectorDataViewType)fitted["Features"].Type).Size);
    }

    [Fact]
    public void GetOutputSchema_refuses_a_missing_or_wrong_input_column_by_name()
    {
        var ml = new MLContext(seed: 1);
        var (_, input) = Input(ml, 1);
        // ML.NET's schema-mismatch convention: ArgumentOutOfRangeException naming the parameter.
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, inputColumnName: "Photo").GetOutputSchema(input));
        Assert.Equal("Could not find input column 'Photo' (the input has: ImagePath, Label, Number). (Parameter 'inputSchema')", missing.Message);
        var wrong = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, inputColumnName: "Number").GetOutputSchema(input));
        Assert.Equal("Schema mismatch for input column 'Number': expected an image path (String) or an MLImage, got Single. (Parameter 'inputSchema')", wrong.Message);
    }

    [Fact]
    public void A_pipeline_propagates_the_feature_column_to_the_next_estimator()
    {
        var ml = new MLContext(seed: 1);
        var (data, input) = Input(ml, 3);
        var pipeline = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value).Append(ml.Transforms.NormalizeMeanVariance("Features"));
        var shape = pipeline.GetOutputSchema(input);
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Features").Kind);
        var sessions = StockFeaturizerChain.FullChainsBuilt;
        var model = pipeline.Fit(data);
        // EstimatorChain.Fit propagates the schema first; only the featurizer's own Fit builds the ONNX chain, once.
        Assert.Equal(sessions + 1, StockFeaturizerChain.FullChainsBuilt);
        Assert.Equal(1280, ((VectorDataViewType)model.Transform(data).Schema["Features"].Type).Size);
    }

    // The rows plus a float column. SchemaShape.Create is internal to ML.NET; EstimatorChain.Fit calls it the same way.
    private static (IDataView Data, SchemaShape Shape) Input(MLContext ml, int rows)
    {
        var data = ml.Data.LoadFromEnumerable(SampleData.Rows().Take(rows));
        var withNumber = ml.Transforms.CustomMapping<ImageRow, NumberRow>((_, o) => o.Number = 1, null).Fit(data).Transform(data);
        var create = typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        return (withNumber, (SchemaShape)create.Invoke(null, [withNumber.Schema])!);
    }

    public sealed class NumberRow
    {
        public float Number { get; set; }
    }
}
