using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Tests;

public class PooledPredictorTests : IClassFixture<TrainingTests.SampleFeatures>
{
    private readonly TrainingTests.SampleFeatures _f;

    public PooledPredictorTests(TrainingTests.SampleFeatures f) => _f = f;

    [Fact]
    public void Paths_bytes_streams_batches_and_eight_threads_all_agree_with_a_serial_run()
    {
        using var dir = new TempDir();
        using var predictor = new PooledPredictor(_f.SaveModel(dir, "model.zip", TrainerKind.Lbfgs));
        Assert.Equal(["checkers", "discs", "stripes"], predictor.Labels);
        var images = _f.Table.Images.Where((_, i) => i % 6 == 0).Select(i => i.ImagePath).ToList();
        var serial = images.Select(predictor.Predict).ToList();

        var fromBytes = predictor.Predict(File.ReadAllBytes(images[0]));
        using (var stream = File.OpenRead(images[1])) Assert.Equal(serial[1].Score, predictor.Predict(stream).Score);
        Assert.Equal(serial[0].Score, fromBytes.Score);
        Assert.Equal(serial.Select(p => p.Score), predictor.PredictBatch(images).Select(p => p.Score));

        using (var bad = new TempDir())
        {
            File.WriteAllText(bad.File("upload.jpg"), "<html>not an image</html>");
            var ex = Assert.Throws<BadImageException>(() => predictor.Predict(bad.File("upload.jpg")));
            Assert.Contains("upload.jpg", ex.Message);
            Assert.Contains("not an image", Assert.Throws<BadImageException>(() => predictor.Predict("<html/>"u8.ToArray())).Message);

            // In a batch, the bad image gets its own error and the others their usual results.
            var mixed = predictor.PredictBatch([images[0], bad.File("upload.jpg"), images[1]]);
            Assert.Equal(serial[0].Score, mixed[0].Score);
            Assert.Contains("upload.jpg", mixed[1].Error);
            Assert.Empty(mixed[1].Score);
            Assert.Equal(serial[1].Score, mixed[2].Score);
            Assert.Null(mixed[2].Error);
        }

        var parallel = new ImagePrediction[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t => parallel[t] = images.Select(predictor.Predict).ToArray());
        Assert.All(parallel, run => Assert.Equal(serial.Select(p => (p.PredictedLabel, p.Score)), run.Select(p => (p.PredictedLabel, p.Score))));
    }

    // Engines beyond the retained count are disposed when returned; each must leave the shared model
    // (and its ONNX Runtime session) alone. With ML.NET's default OwnsTransformer = true the test host crashed here.
    [Fact]
    public void Engines_dropped_from_the_pool_leave_the_shared_model_usable()
    {
        using var dir = new TempDir();
        using var predictor = new PooledPredictor(_f.SaveModel(dir, "model.zip", TrainerKind.Sdca), new PooledPredictorOptions { MaxRetainedEngines = 1, WatchForChanges = false });
        var image = _f.Table.Images[0].ImagePath;
        var expected = predictor.Predict(image);
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => Assert.Equal(expected.Score, predictor.Predict(image).Score));
        Assert.Equal(expected.Score, predictor.Predict(image).Score);
    }

    [Fact]
    public void Missing_and_corrupt_models_are_named_in_the_error()
    {
        using var dir = new TempDir();
        Assert.Contains("absent.zip", Assert.Throws<FileNotFoundException>(() => new PooledPredictor(dir.File("absent.zip"))).Message);
        File.WriteAllText(dir.File("broken.zip"), "not a zip");
        Assert.Contains("broken.zip", Assert.Throws<InvalidDataException>(() => new PooledPredictor(dir.File("broken.zip"))).Message);
    }
}
