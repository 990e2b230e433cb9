using System.Text.Json;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;
using Microsoft.ML;

namespace EffNet.MLNet.Tests;

/// <summary>
/// A classifier trained on torchvision-exact features: its model.json records the mode, and PooledPredictor
/// applies it, so serving scores equal training's; the saved chain alone (a stock consumer) does not.
/// </summary>
[Trait("Category", "Slow")]
public class PreprocessingServingTests
{
    private static readonly PreprocessFixtures Fixture = PreprocessFixtures.B0;

    [Fact]
    public void Pooled_predictor_applies_the_recorded_torchvision_preprocessing_and_scores_as_in_training()
    {
        var ml = new MLContext(3);
        var rows = Fixture.ImagePaths.Select((p, i) => new ImageRow { ImagePath = p, Label = i % 2 == 0 ? "even" : "odd" }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new EfficientNetFeaturizerOptions { WeightsPath = Fixture.Checkpoint, Preprocessing = Preprocessing.TorchvisionExact, BatchSize = 4 };
        var backbone = EfficientNetBackbone.Resolve(options);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.ExtractEfficientNetFeatures(backbone, options: options))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);
        var training = ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).Select(s => s.Score).ToList();

        using var dir = new TempDir();
        ml.Model.Save(model, data.Schema, dir.File("model.zip"));
        var backboneReport = BackboneReport.From(backbone);
        Assert.Equal(("torchvision", "bicubic"), (backboneReport.Preprocessing, backboneReport.Interpolation));
        Assert.Contains("stock ML.NET ResizeImages", backboneReport.SavedModelPreprocessing);
        File.WriteAllText(dir.File("model.json"), JsonSerializer.Serialize(new { backbone = backboneReport }, ModelReport.Json));

        var paths = rows.Select(r => r.ImagePath).ToList();
        // The fixtures include 20 and 24 MP camera photos: past serving's default budget (64 MiB), within training's.
        using (var exact = new PooledPredictor(dir.File("model.zip"), new PooledPredictorOptions { WatchForChanges = false, MaxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes }))
        {
            Assert.Equal(Preprocessing.TorchvisionExact, exact.Preprocessing);
            var served = exact.PredictBatch(paths);
            for (var i = 0; i < paths.Count; i++)
                Assert.True(MaxDifference(training[i], served[i].Score) < 1e-4, $"{paths[i]}: served scores differ from training's by {MaxDifference(training[i], served[i].Score)}");
            Assert.True(MaxDifference(training[3], exact.Predict(File.ReadAllBytes(paths[3])).Score) < 1e-4);
        }
        // The .zip's own chain, as a stock ML.NET consumer runs it: a different resize, visibly different scores.
        using var stock = new PooledPredictor(dir.File("model.zip"), new PooledPredictorOptions { WatchForChanges = false, ApplyRecordedPreprocessing = false, MaxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes });
        Assert.Equal(Preprocessing.Fast, stock.Preprocessing);
        var largest = stock.PredictBatch(paths).Select((p, i) => MaxDifference(training[i], p.Score)).Max();
        Assert.True(largest > 1e-3, $"the stock chain's scores differ from training's by only {largest}: this test could not tell the modes apart");
    }

    [Fact]
    public void Torchvision_preprocessing_refuses_an_image_column_it_cannot_resize_exactly()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new ImageRow { ImagePath = Fixture.ImagePaths.First() } });
        var options = new EfficientNetFeaturizerOptions { WeightsPath = Fixture.Checkpoint, Preprocessing = Preprocessing.TorchvisionExact, FastDecode = false };
        var ex = Assert.Throws<ArgumentException>(() => ml.Transforms.ExtractEfficientNetFeatures(options: options).Fit(data));
        Assert.Contains("TorchvisionExact needs FastDecode", ex.Message);
    }

    private static float MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }
}
