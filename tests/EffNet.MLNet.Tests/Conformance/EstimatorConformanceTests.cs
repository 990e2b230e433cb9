using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Tests.Conformance;

/// <summary>
/// The checks ML.NET runs on each of its own estimators (its tests' TestEstimatorCore), written
/// here for the featurizer: schema propagation, invalid inputs, save/load with equal values,
/// row-to-row mapper and prediction engine against Transform, cursor sets against one cursor,
/// pass-through columns. A tiny random network at 32 pixels keeps it quick.
/// </summary>
public class EstimatorConformanceTests
{
    private static readonly EfficientNetFeaturizerOptions Tiny = new()
    {
        Variant = "w=0.25,d=0.25,r=32", RandomInit = true, Seed = 5, BatchSize = 3,
    };

    private static IDataView Rows(MLContext ml, int count) => ml.Data.LoadFromEnumerable(
        SampleData.Rows().Where((_, i) => i % 7 == 0).Take(count)
            .Select((r, i) => new Input { ImagePath = r.ImagePath, Label = r.Label, Weight = i + 0.5f }).ToList());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Output_schema_before_fitting_is_the_fitted_transformers_and_the_transformed_datas(bool fastDecode)
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, 4);
        var estimator = ml.Transforms.ExtractEfficientNetFeatures(options: Tiny with { FastDecode = fastDecode });
        var shape = estimator.GetOutputSchema(Shape(data.Schema));
        using var transformer = estimator.Fit(data);
        var fitted = transformer.GetOutputSchema(data.Schema);
        var transformed = transformer.Transform(data).Schema;

        Assert.Equal(shape.Select(c => c.Name), fitted.Where(c => !c.IsHidden).Select(c => c.Name));
        foreach (var column in shape)
        {
            var actual = fitted[column.Name].Type;
            Assert.Equal(column.Kind == SchemaShape.Column.VectorKind.Scalar, actual is not VectorDataViewType);
            Assert.Equal(column.ItemType, actual is VectorDataViewType v ? v.ItemType : actual);
        }
        Assert.Equal(Describe(fitted), Describe(transformed));
        Assert.Equal(16 * 4 * 5, ((VectorDataViewType)fitted["Features"].Type).Size);
    }

    // Mutation: ImageColumnCheck throws ArgumentException (as before) instead of ArgumentOutOfRangeException -> fails.
    [Fact]
    public void A_missing_or_wrongly_typed_image_column_is_a_schema_mismatch_everywhere()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, 2);
        var estimator = ml.Transforms.ExtractEfficientNetFeatures(options: Tiny);
        using var transformer = estimator.Fit(data);

        var missing = ml.Data.LoadFromEnumerable(new[] { new { Photo = "a.jpg", Weight = 1f } });
        var wrongType = ml.Data.LoadFromEnumerable(new[] { new { ImagePath = 1f, Weight = 1f } });
        foreach (var invalid in new[] { missing, wrongType })
        {
            SchemaMismatch(() => estimator.Fit(invalid));
            SchemaMismatch(() => estimator.GetOutputSchema(Shape(invalid.Schema)));
            SchemaMismatch(() => transformer.GetOutputSchema(invalid.Schema));
            SchemaMismatch(() => transformer.Transform(invalid));
            SchemaMismatch(() => transformer.GetRowToRowMapper(invalid.Schema));
        }
    }

    [Fact]
    public void Saved_and_loaded_it_gives_the_same_schema_and_the_same_values()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, 5);
        using var transformer = ml.Transforms.ExtractEfficientNetFeatures(options: Tiny with { FastDecode = false }).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(transformer, data.Schema, stream);
        stream.Position = 0;
        var loaded = ml.Model.Load(stream, out var inputSchema);

        Assert.Equal(Describe(data.Schema), Describe(inputSchema));
        Assert.Equal(Describe(transformer.GetOutputSchema(data.Schema).Where(c => !c.IsHidden)), Describe(loaded.GetOutputSchema(data.Schema).Where(c => !c.IsHidden)));
        var before = Features(transformer.Transform(data));
        var after = Features(loaded.Transform(data));
        AssertClose(before, after);
        Assert.True(FeaturizerTests.Cosine(before[0], before[1]) < 0.9999, "the tiny network must tell two images apart, or equal values prove nothing");
    }

    [Theory]
    [InlineData(false, 1e-5)]
    // The fast decoder reads the same pixels through another resize, so rows agree closely, not exactly.
    [InlineData(true, 2e-2)]
    public void The_row_to_row_mapper_and_the_prediction_engine_give_what_Transform_gives(bool fastDecode, double tolerance)
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, 5);
        using var transformer = ml.Transforms.ExtractEfficientNetFeatures(options: Tiny with { FastDecode = fastDecode }).Fit(data);
        var transformed = Features(transformer.Transform(data));

        Assert.True(transformer.IsRowToRowMapper);
        var mapper = transformer.GetRowToRowMapper(data.Schema);
        var output = mapper.OutputSchema["Features"];
        var mapped = new List<float[]>();
        using (var cursor = data.GetRowCursor(mapper.GetDependencies([output])))
        using (var row = mapper.GetRow(cursor, [output]))
        {
            var getter = row.GetGetter<VBuffer<float>>(output);
            var value = default(VBuffer<float>);
            while (cursor.MoveNext())
            {
                getter(ref value);
                mapped.Add(value.DenseValues().ToArray());
            }
        }
        AssertClose(transformed, mapped, tolerance);

        var engine = ml.Model.CreatePredictionEngine<Input, Output>(transformer);
        var predicted = ml.Data.CreateEnumerable<Input>(data, reuseRowObject: false).Select(r => engine.Predict(r)).ToList();
        AssertClose(transformed, predicted.Select(p => p.Features).ToList(), tolerance);
        Assert.Equal(ml.Data.CreateEnumerable<Input>(data, false).Select(r => r.Label), predicted.Select(p => p.Label));
    }

    [Fact]
    public void A_cursor_set_gives_the_rows_one_cursor_gives_and_other_columns_pass_through()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, 7);
        using var transformer = ml.Transforms.ExtractEfficientNetFeatures(options: Tiny).Fit(data);
        var view = transformer.Transform(data);
        var single = RowsById(view, [view.GetRowCursor(view.Schema)]);
        var set = RowsById(view, view.GetRowCursorSet(view.Schema, 2));

        Assert.Equal(7, single.Count);
        Assert.Equal(single.Keys.Order(), set.Keys.Order());
        foreach (var (id, row) in single)
        {
            Assert.Equal(row.Features, set[id].Features);
            Assert.Equal((row.ImagePath, row.Label, row.Weight), (set[id].ImagePath, set[id].Label, set[id].Weight));
        }

        // Every input column comes through unchanged, in order, before the features.
        var input = ml.Data.CreateEnumerable<Input>(data, false).ToList();
        var output = ml.Data.CreateEnumerable<Output>(view, false).ToList();
        Assert.Equal(input.Select(r => (r.ImagePath, r.Label, r.Weight)), output.Select(r => (r.ImagePath, r.Label, r.Weight)));
        Assert.Equal(Describe(data.Schema), Describe(view.Schema.Take(data.Schema.Count)));
    }

    // TestEstimatorCore's rule: a bad input may throw only these two; any other exception (ArgumentException included) fails.
    private static void SchemaMismatch(Action action)
    {
        try
        {
            action();
        }
        catch (ArgumentOutOfRangeException)
        {
            return;
        }
        catch (InvalidOperationException)
        {
            return;
        }
        Assert.Fail("An input without a usable image column was accepted.");
    }

    private static Dictionary<DataViewRowId, Output> RowsById(IDataView view, DataViewRowCursor[] cursors)
    {
        var rows = new Dictionary<DataViewRowId, Output>();
        foreach (var cursor in cursors)
        {
            using (cursor)
            {
                var id = cursor.GetIdGetter();
                var path = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["ImagePath"]);
                var label = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Label"]);
                var weight = cursor.GetGetter<float>(view.Schema["Weight"]);
                var features = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
                while (cursor.MoveNext())
                {
                    DataViewRowId key = default;
                    ReadOnlyMemory<char> p = default, l = default;
                    float w = 0;
                    VBuffer<float> f = default;
                    id(ref key); path(ref p); label(ref l); weight(ref w); features(ref f);
                    rows.Add(key, new Output { ImagePath = p.ToString(), Label = l.ToString(), Weight = w, Features = f.DenseValues().ToArray() });
                }
            }
        }
        return rows;
    }

    private static List<float[]> Features(IDataView view)
    {
        var result = new List<float[]>();
        using var cursor = view.GetRowCursor([view.Schema["Features"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        var value = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref value);
            result.Add(value.DenseValues().ToArray());
        }
        return result;
    }

    private static void AssertClose(List<float[]> expected, List<float[]> actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var r = 0; r < expected.Count; r++)
        {
            Assert.Equal(expected[r].Length, actual[r].Length);
            var worst = expected[r].Zip(actual[r], (a, b) => Math.Abs(a - b) / Math.Max(1, Math.Abs(a))).Max();
            Assert.True(worst <= tolerance, $"row {r}: features differ by {worst:G3} (tolerance {tolerance:G3})");
        }
    }

    private static string[] Describe(IEnumerable<DataViewSchema.Column> schema) => schema.Select(c => $"{c.Name}:{c.Type}:{c.IsHidden}").ToArray();

    // SchemaShape.Create is internal to ML.NET; EstimatorChain.Fit calls it the same way.
    private static SchemaShape Shape(DataViewSchema schema) => (SchemaShape)typeof(SchemaShape)
        .GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!.Invoke(null, [schema])!;

    public class Input
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
        public float Weight { get; set; }
    }

    public sealed class Output : Input
    {
        public float[] Features { get; set; } = [];
    }
}
