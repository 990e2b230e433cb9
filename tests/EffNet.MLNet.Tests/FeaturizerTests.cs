using EffNet.MLNet.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Tests;

public class FeaturizerTests
{
    private static readonly Lazy<EfficientNetBackbone> RandomB0 = new(() =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 7 }));

    [Fact]
    public void Output_schema_is_a_known_size_float_vector()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(SampleData.Rows().Take(3));
        var estimator = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value);
        var transformer = estimator.Fit(data);
        var type = Assert.IsType<VectorDataViewType>(transformer.GetOutputSchema(data.Schema)["Features"].Type);
        Assert.Equal(1280, type.Size);
        Assert.Equal(NumberDataViewType.Single, type.ItemType);
        Assert.Equal(["ImagePath", "Label", "Features"], transformer.Transform(data).Schema.Select(c => c.Name));
    }

    [Fact]
    public void Batched_transform_equals_the_saved_stock_chain_row_by_row()
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows().Where((_, i) => i % 9 == 0).ToList(); // 10 images, all sizes and kinds
        var data = ml.Data.LoadFromEnumerable(rows);
        var transformer = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { BatchSize = 4, FastDecode = false }).Fit(data);
        var fast = ml.Data.CreateEnumerable<FeatureRow>(transformer.Transform(data), reuseRowObject: false).ToList();

        using var dir = new TempDir();
        ml.Model.Save(transformer, data.Schema, dir.File("featurizer.zip"));
        var loaded = new MLContext(2).Model.Load(dir.File("featurizer.zip"), out var schema);
        Assert.IsNotType<EfficientNetFeaturizerTransformer>(loaded);
        var saved = ml.Data.CreateEnumerable<FeatureRow>(loaded.Transform(data), reuseRowObject: false).ToList();

        Assert.Equal(rows.Count, fast.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i].ImagePath, fast[i].ImagePath);
            Assert.True(Cosine(fast[i].Features, saved[i].Features) >= 0.9999, $"row {i}: cosine {Cosine(fast[i].Features, saved[i].Features)}");
        }
        // Different images give different features.
        Assert.True(Cosine(fast[0].Features, fast[5].Features) < 0.999);
    }

    [Fact]
    public void Fast_decoding_agrees_with_the_saved_stock_chain_on_every_sample_image()
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows();
        var data = ml.Data.LoadFromEnumerable(rows);
        var fast = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { BatchSize = 8 }).Fit(data);
        var fastRows = ml.Data.CreateEnumerable<FeatureRow>(fast.Transform(data), reuseRowObject: false).ToList();
        var stockRows = ml.Data.CreateEnumerable<FeatureRow>(fast.StockEquivalent.Transform(data), reuseRowObject: false).ToList();
        Assert.Equal(rows.Count, fastRows.Count);
        var worst = Enumerable.Range(0, rows.Count).Select(i => (Cosine(fastRows[i].Features, stockRows[i].Features), rows[i].ImagePath)).Min();
        Assert.True(worst.Item1 >= 0.995, $"cosine {worst.Item1:F5} for {worst.ImagePath}");
    }

    [Fact]
    public void Features_are_cached_per_backbone_and_decoder()
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows().Take(2).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var fast = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value).Fit(data);
        var stock = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { FastDecode = false }).Fit(data);
        Assert.StartsWith(RandomB0.Value.Identity + ";", fast.FeatureIdentity);
        Assert.Contains(";decode=fast-" + Imaging.FastImageDecoder.Version + ";", fast.FeatureIdentity);
        Assert.NotEqual(fast.FeatureIdentity, stock.FeatureIdentity);

        // Features stored for one decoder are not served to the other.
        using var dir = new TempDir();
        var images = rows.Select(r => new Training.LabeledImage(r.ImagePath, r.Label)).ToList();
        var (_, first) = Training.ImageClassifierTrainer.Featurize(ml, fast, images, new Training.FeatureCache(dir.Path, fast.FeatureIdentity, 1280));
        var (_, again) = Training.ImageClassifierTrainer.Featurize(ml, fast, images, new Training.FeatureCache(dir.Path, fast.FeatureIdentity, 1280));
        var (_, other) = Training.ImageClassifierTrainer.Featurize(ml, stock, images, new Training.FeatureCache(dir.Path, stock.FeatureIdentity, 1280));
        Assert.Equal((0, 2, 0), (first, again, other));
        Assert.Throws<ArgumentException>(() => Training.ImageClassifierTrainer.Featurize(ml, stock, images, new Training.FeatureCache(dir.Path, fast.FeatureIdentity, 1280)));
    }

    [Fact]
    public void Fast_decoding_names_the_image_it_cannot_read()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("broken.jpg"), "not an image");
        var ml = new MLContext(1);
        var rows = SampleData.Rows().Take(3).Append(new ImageRow { ImagePath = dir.File("broken.jpg"), Label = "discs" }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var fast = ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, options: new EfficientNetFeaturizerOptions { BatchSize = 2 }).Fit(data);
        var ex = Assert.Throws<Imaging.BadImageException>(() => ml.Data.CreateEnumerable<FeatureRow>(fast.Transform(data), false).ToList());
        Assert.Equal(dir.File("broken.jpg"), ex.InputName);
    }

    [Fact]
    public void Paths_with_an_image_folder_MLImages_and_raw_bytes_give_the_same_features()
    {
        var ml = new MLContext(1);
        var rows = SampleData.Rows().Where((_, i) => i % 15 == 0).ToList();
        var options = new EfficientNetFeaturizerOptions { BatchSize = 3 };
        float[][] Features(IDataView view, string input, EfficientNetFeaturizerOptions o) =>
            ml.Data.CreateEnumerable<FeaturesOnly>(
                ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, "Features", input, o).Fit(view).Transform(view), false)
            .Select(r => r.Features).ToArray();

        var paths = ml.Data.LoadFromEnumerable(rows);
        var byPath = Features(paths, "ImagePath", options);

        var relative = ml.Data.LoadFromEnumerable(rows.Select(r => new ImageRow { ImagePath = Path.GetRelativePath(SampleData.Folder, r.ImagePath), Label = r.Label }));
        var byFolder = Features(relative, "ImagePath", options with { ImageFolder = SampleData.Folder });

        var images = ml.Transforms.LoadImages("Image", "", "ImagePath").Fit(paths).Transform(paths);
        var byImage = Features(images, "Image", options);

        // Encoded bytes (an upload, a database blob) become an MLImage in the input class.
        var decoded = ml.Data.LoadFromEnumerable(rows.Select(r => new BytesRow { Image = MLImage.CreateFromStream(new MemoryStream(File.ReadAllBytes(r.ImagePath))) }));
        var byBytes = Features(decoded, "Image", options);

        var raw = ml.Transforms.LoadRawImageBytes("Bytes", "", "ImagePath").Fit(paths).Transform(paths);
        Assert.Contains("make an MLImage column", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, "Features", "Bytes").Fit(raw)).Message);

        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(byPath[i], byFolder[i]);
            Assert.True(Cosine(byPath[i], byImage[i]) >= 0.9999);
            Assert.True(Cosine(byPath[i], byBytes[i]) >= 0.9999);
        }
    }

    [Fact]
    public void A_column_of_the_wrong_type_is_refused_by_name()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new { Number = 1f } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value, "Features", "Number").Fit(data));
        Assert.Contains("Schema mismatch for input column 'Number': expected an image path (String) or an MLImage, got Single.", ex.Message);
        Assert.Contains("Could not find input column 'ImagePath'", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractEfficientNetFeatures(RandomB0.Value).Fit(data)).Message);
    }

    internal static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    public sealed class FeaturesOnly
    {
        [VectorType(1280)] public float[] Features { get; set; } = [];
    }

    public sealed class BytesRow
    {
        // ML.NET needs a declared size to type the column; images of any size flow through it.
        [Microsoft.ML.Transforms.Image.ImageType(224, 224)] public MLImage? Image { get; set; }
    }

    public sealed class FeatureRow
    {
        public string ImagePath { get; set; } = "";
        [VectorType(1280)] public float[] Features { get; set; } = [];
    }
}

public class ExecutionProviderTests
{
    [Fact]
    public void Cuda_without_the_gpu_runtime_fails_saying_what_to_install()
    {
        // This machine's ONNX Runtime package is the CPU build; CUDA must be selectable, never required.
        var a = Architecture.EfficientNetArchitecture.For(Architecture.EfficientNetVariant.B0);
        var bytes = Onnx.EfficientNetOnnxExporter.ToBytes(a, Onnx.RandomWeights.Create(a, 1));
        var ex = Assert.Throws<InvalidOperationException>(() => new FeatureSession(bytes, 0, ExecutionProvider.Cuda));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", ex.Message);
        Assert.Contains("ExecutionProvider.Cpu", ex.Message);
    }

    [Fact]
    public void Cuda_through_the_catalog_fails_at_Fit_with_the_same_message_naming_the_option()
    {
        var ml = new Microsoft.ML.MLContext(0);
        var data = ml.Data.LoadFromEnumerable(SampleData.Rows().Take(2));
        var estimator = ml.Transforms.ExtractEfficientNetFeatures(options: new EfficientNetFeaturizerOptions { RandomInit = true, ExecutionProvider = ExecutionProvider.Cuda });
        var ex = Assert.Throws<InvalidOperationException>(() => estimator.Fit(data));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", ex.Message);
        Assert.Contains("EfficientNetFeaturizerOptions.ExecutionProvider = ExecutionProvider.Cpu", ex.Message);
    }
}

public class ReadmePipelineTests
{
    public sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    public sealed class Prediction
    {
        public string PredictedLabel { get; set; } = "";
    }

    [Fact]
    public void Hidden_columns_keep_their_own_values_through_the_featurizer()
    {
        // MapValueToKey("Label") leaves the text Label as a hidden twin of the key Label; a reader
        // of every column must get text from the one and keys from the other.
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(SampleData.Rows().Take(4).Select(r => new Row { ImagePath = r.ImagePath, Label = r.Label }));
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var view = ml.Transforms.ExtractEfficientNetFeatures("Features", "ImagePath", new EfficientNetFeaturizerOptions { RandomInit = true })
            .Fit(keyed).Transform(keyed);
        var hidden = view.Schema.Single(c => c.Name == "Label" && c.IsHidden);
        using var cursor = view.GetRowCursor(view.Schema);
        var text = cursor.GetGetter<ReadOnlyMemory<char>>(hidden);
        var key = cursor.GetGetter<uint>(view.Schema["Label"]);
        ReadOnlyMemory<char> t = default;
        uint k = 0;
        Assert.True(cursor.MoveNext());
        text(ref t);
        key(ref k);
        Assert.Equal("checkers", t.ToString());
        Assert.Equal(1u, k);
    }

    [Fact]
    public void The_readme_pipeline_fits_saves_and_predicts()
    {
        // The README's ten lines, with random weights instead of the download.
        var ml = new MLContext(seed: 0);
        var images = SampleData.Rows().Where((_, i) => i % 2 == 0).Select(r => new Row { ImagePath = r.ImagePath, Label = r.Label });
        var data = ml.Data.LoadFromEnumerable(images);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.ExtractEfficientNetFeatures("Features", "ImagePath",
                new EfficientNetFeaturizerOptions { RandomInit = true }))
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(data);
        using var dir = new TempDir();
        ml.Model.Save(model, data.Schema, dir.File("model.zip"));
        var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(ml.Model.Load(dir.File("model.zip"), out _));
        var odd = SampleData.Rows().Where((_, i) => i % 2 == 1).ToList();
        var right = odd.Count(r => engine.Predict(new Row { ImagePath = r.ImagePath, Label = r.Label }).PredictedLabel == r.Label);
        Assert.True(right >= 0.8 * odd.Count, $"{right}/{odd.Count} held-out images right");
    }
}
