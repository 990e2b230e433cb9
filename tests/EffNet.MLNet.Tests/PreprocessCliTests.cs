using EffNet.MLNet.Training;
using Microsoft.ML;

namespace EffNet.MLNet.Tests;

/// <summary><c>--preprocess</c> on the commands that configure a backbone.</summary>
public class PreprocessCliTests
{
    [Theory]
    [InlineData("featurize")]
    [InlineData("train")]
    public void An_unknown_mode_is_refused_with_the_valid_ones(string command)
    {
        using var dir = new TempDir();
        var (code, _, stderr) = CliTests.Effnet(command, "--random-init", "--preprocess", "bicubic", "--data", SampleData.Folder, "--out", dir.File("o.csv"));
        Assert.Equal(2, code);
        Assert.Contains("--preprocess must be one of fast, torchvision, not 'bicubic'.", string.Join(' ', stderr.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Featurize_with_torchvision_gives_the_library_s_torchvision_exact_features()
    {
        var fixture = PreprocessFixtures.B0;
        using var dir = new TempDir();
        var photos = Directory.CreateDirectory(dir.File("photos")).FullName;
        foreach (var name in new[] { "rocket.jpg", "chelsea.png", "motorcycle_left.png" })
            File.Copy(Path.Combine(fixture.Directory, "images", name), Path.Combine(photos, name));
        float[][] Featurize(string mode)
        {
            var output = dir.File(mode + ".idv");
            var run = CliTests.EffnetWithHome(dir.File("home"), "featurize", "--data", photos, "--out", output, "--weights", fixture.Checkpoint, "--preprocess", mode);
            Assert.True(run.Code == 0, run.Err);
            var ml = new MLContext(0);
            return ml.Data.CreateEnumerable<UnlabelledFeaturizeTests.Row>(ml.Data.LoadFromBinary(output), false).OrderBy(r => r.ImagePath, StringComparer.Ordinal).Select(r => r.Features).ToArray();
        }
        var torchvision = Featurize("torchvision");
        var fast = Featurize("fast");

        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(Directory.GetFiles(photos).Order(StringComparer.Ordinal).Select(p => new ImageRow { ImagePath = p }));
        var options = new EfficientNetFeaturizerOptions { WeightsPath = fixture.Checkpoint, Preprocessing = Preprocessing.TorchvisionExact };
        using var featurizer = ml.Transforms.ExtractEfficientNetFeatures(options: options).Fit(data);
        var library = ml.Data.CreateEnumerable<FeaturizerTests.FeaturesOnly>(featurizer.Transform(data), false).Select(r => r.Features).ToArray();
        for (var i = 0; i < library.Length; i++)
        {
            Assert.True(FeaturizerTests.Cosine(library[i], torchvision[i]) > 0.999999, $"image {i}: cosine {FeaturizerTests.Cosine(library[i], torchvision[i])}");
            Assert.True(FeaturizerTests.Cosine(fast[i], torchvision[i]) < 0.9999, $"image {i}: the fast features equal the torchvision ones");
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_records_torchvision_preprocessing_predict_applies_it_and_retrain_keeps_it()
    {
        var fixture = PreprocessFixtures.B0;
        using var dir = new TempDir();
        var data = dir.File("photos");
        string[] colour = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg"];
        string[] grey = ["camera.png", "moon.png", "grass.png", "gravel.png", "brick.png", "coins.png"];
        foreach (var (label, names) in new[] { ("colour", colour), ("grey", grey) })
        {
            Directory.CreateDirectory(Path.Combine(data, label));
            foreach (var name in names) File.Copy(Path.Combine(fixture.Directory, "images", name), Path.Combine(data, label, name));
        }
        var model = dir.File("model.zip");
        var train = CliTests.EffnetWithHome(dir.File("home"), "train", "--data", data, "--out", model, "--weights", fixture.Checkpoint,
            "--preprocess", "torchvision", "--trainer", "lbfgs", "--quiet");
        Assert.True(train.Code == 0, train.Err);
        var report = ModelReport.Load(dir.File("model.json"));
        Assert.Equal(("torchvision", "bicubic"), (report.Backbone.Preprocessing, report.Backbone.Interpolation));
        Assert.Contains("stock ML.NET ResizeImages", report.Backbone.SavedModelPreprocessing);
        Assert.EndsWith(";preprocess=torchvision-bicubic-1", report.Backbone.Identity);

        using (var predictor = new PooledPredictor(model, new PooledPredictorOptions { WatchForChanges = false }))
        {
            Assert.Equal(Preprocessing.TorchvisionExact, predictor.Preprocessing);
            var image = Path.Combine(data, "colour", "rocket.jpg");
            var predict = CliTests.EffnetWithHome(dir.File("home"), "predict", "--model", model, image, "--json");
            Assert.True(predict.Code == 0, predict.Err);
            var expected = predictor.Predict(image).Scores[0].Score;
            Assert.Contains(expected.ToString("R", System.Globalization.CultureInfo.InvariantCulture)[..6], predict.Out);
        }

        var retrained = dir.File("retrained.zip");
        var retrain = CliTests.EffnetWithHome(dir.File("home"), "retrain", "--model", model, "--data", data, "--out", retrained, "--quiet");
        Assert.True(retrain.Code == 0, retrain.Err);
        Assert.Equal(report.Backbone.Identity, ModelReport.Load(dir.File("retrained.json")).Backbone.Identity);
    }
}
