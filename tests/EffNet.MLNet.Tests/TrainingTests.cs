using EffNet.MLNet.Training;
using Microsoft.ML;

namespace EffNet.MLNet.Tests;

/// <summary>Trains each trainer on features of the sample data (random B0 weights, featurized once).</summary>
public class TrainingTests : IClassFixture<TrainingTests.SampleFeatures>
{
    public sealed class SampleFeatures
    {
        public SampleFeatures()
        {
            Ml = new MLContext(0);
            var images = ImageDataset.FromFolder(SampleData.Folder);
            var data = Ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { ImagePath = i.ImagePath, Label = i.Label }));
            Featurizer = Ml.Transforms.ExtractEfficientNetFeatures(options: new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 1 }).Fit(data);
            Table = ImageClassifierTrainer.Featurize(Ml, Featurizer, images);
        }

        public MLContext Ml { get; }
        public EfficientNetFeaturizerTransformer Featurizer { get; }
        public FeatureTable Table { get; }

        /// <summary>Train <paramref name="trainer"/> on the sample features and save the model as <paramref name="name"/> in <paramref name="dir"/>.</summary>
        internal string SaveModel(TempDir dir, string name, TrainerKind trainer)
        {
            var result = ImageClassifierTrainer.Train(Ml, Featurizer, Table, new TrainingOptions { Trainer = trainer });
            var path = dir.File(name);
            Ml.Model.Save(result.Model, ImageClassifierTrainer.InputSchema(Ml), path);
            return path;
        }
    }

    private readonly SampleFeatures _f;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public TrainingTests(SampleFeatures f, Xunit.Abstractions.ITestOutputHelper output)
    {
        _f = f;
        _output = output;
    }

    [Fact]
    public void Sample_data_has_three_balanced_classes_of_varied_images()
    {
        var images = ImageDataset.FromFolder(SampleData.Folder);
        Assert.Equal(90, images.Count);
        Assert.Equal(["checkers", "discs", "stripes"], images.Select(i => i.Label).Distinct().Order());
        Assert.All(images.GroupBy(i => i.Label), g => Assert.Equal(30, g.Count()));
        Assert.Contains(images, i => i.ImagePath.EndsWith(".png"));
        Assert.Contains(images, i => i.ImagePath.EndsWith(".jpg"));
    }

    [Theory]
    [InlineData(TrainerKind.Sdca)]
    [InlineData(TrainerKind.Lbfgs)]
    [InlineData(TrainerKind.LightGbm)]
    [InlineData(TrainerKind.FastTree)]
    public void Each_trainer_reaches_80_percent_validation_accuracy_with_random_weights(TrainerKind kind)
    {
        var result = ImageClassifierTrainer.Train(_f.Ml, _f.Featurizer, _f.Table, new TrainingOptions { Trainer = kind, Seed = 3 });
        Assert.Equal(kind, result.Trainer);
        Assert.Equal(18, result.ValidationCount); // 20% of 30, per class
        _output.WriteLine($"{kind}: validation accuracy {result.Validation.MicroAccuracy:P1}, macro {result.Validation.MacroAccuracy:P1}");
        Assert.True(result.Validation.MicroAccuracy >= 0.8, $"{kind}: validation accuracy {result.Validation.MicroAccuracy:P1}");

        using var dir = new TempDir();
        var path = dir.File(kind + ".zip");
        _f.Ml.Model.Save(result.Model, ImageClassifierTrainer.InputSchema(_f.Ml), path);
        var loaded = new MLContext(5).Model.Load(path, out _);
        var engine = _f.Ml.Model.CreatePredictionEngine<PathInput, Prediction>(loaded);
        var correct = _f.Table.Images.Count(i => engine.Predict(new PathInput { ImagePath = i.ImagePath }).PredictedLabel == i.Label);
        Assert.True(correct >= 0.8 * _f.Table.Count, $"{kind}: {correct}/{_f.Table.Count} right after save/load");
        var p = engine.Predict(new PathInput { ImagePath = _f.Table.Images[0].ImagePath });
        Assert.Equal(3, p.Score.Length);
    }

    [Fact]
    public void Auto_tries_every_trainer_and_keeps_the_best()
    {
        var result = ImageClassifierTrainer.Train(_f.Ml, _f.Featurizer, _f.Table, new TrainingOptions { Seed = 3 });
        Assert.Equal(Trainers.All, result.Leaderboard.Select(e => e.Trainer));
        Assert.Equal(result.Leaderboard.Max(e => e.Validation!.MacroAccuracy), result.Validation.MacroAccuracy);
        Assert.Equal(["checkers", "discs", "stripes"], result.Labels);
        Assert.Equal(18, result.Validation.ConfusionMatrix.Sum(r => r.Sum()));
    }

    [Fact]
    public void Stratified_split_keeps_label_shares_and_is_seeded()
    {
        var labels = Enumerable.Range(0, 50).Select(i => i < 40 ? "a" : "b").ToList();
        var (train, validation) = StratifiedSplit.Split(labels, 0.2, 1);
        Assert.Equal(8, validation.Count(i => labels[i] == "a"));
        Assert.Equal(2, validation.Count(i => labels[i] == "b"));
        Assert.Equal(50, train.Length + validation.Length);
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(validation, StratifiedSplit.Split(labels, 0.2, 1).Validation);
        Assert.NotEqual(validation, StratifiedSplit.Split(labels, 0.2, 2).Validation);
    }

    public sealed class PathInput
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class Prediction
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }
}
