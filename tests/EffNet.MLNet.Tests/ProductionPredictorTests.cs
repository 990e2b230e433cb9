using EffNet.MLNet.AspNetCore;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Tests.Readme;
using EffNet.MLNet.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using SkiaSharp;

namespace EffNet.MLNet.Tests;

/// <summary>What a web app needs of <see cref="PooledPredictor"/>: bad uploads, reload, any label column, named models.</summary>
public class ProductionPredictorTests : IClassFixture<TrainingTests.SampleFeatures>
{
    private readonly TrainingTests.SampleFeatures _f;

    public ProductionPredictorTests(TrainingTests.SampleFeatures f) => _f = f;

    private string SaveModel(TempDir dir, string name, TrainerKind trainer) => _f.SaveModel(dir, name, trainer);

    [Fact]
    public void Bad_uploads_throw_one_exception_type_with_the_callers_name_and_the_reason()
    {
        using var dir = new TempDir();
        using var predictor = new PooledPredictor(SaveModel(dir, "model.zip", TrainerKind.Sdca));
        var good = File.ReadAllBytes(_f.Table.Images[0].ImagePath);
        foreach (var (what, bytes) in ReadmeSnippetTests.BadUploads(good))
        {
            var ex = Assert.Throws<BadImageException>(() => predictor.Predict(bytes, "holiday.jpg"));
            Assert.Equal("holiday.jpg", ex.InputName);
            Assert.False(string.IsNullOrWhiteSpace(ex.Reason), what);
            Assert.StartsWith("'holiday.jpg' ", ex.Message);
            Assert.DoesNotContain(Path.GetTempPath(), ex.Message);
            Assert.Throws<BadImageException>(() => predictor.Predict(new MemoryStream(bytes), "holiday.jpg"));
        }
        Assert.Contains("truncated", Assert.Throws<BadImageException>(() => predictor.Predict(good[..(good.Length / 3)], "cut.jpg")).Reason);
        Assert.Contains("100000×100000", Assert.Throws<BadImageException>(() => predictor.Predict(ReadmeSnippetTests.BadUploads(good).Last().Bytes, "bomb.png")).Reason);
    }

    [Fact]
    public void PredictBatch_isolates_images_whose_header_is_fine_but_whose_body_is_corrupt()
    {
        using var dir = new TempDir();
        using var predictor = new PooledPredictor(SaveModel(dir, "model.zip", TrainerKind.Sdca));
        var images = _f.Table.Images.Take(3).Select(i => i.ImagePath).ToList();
        var corrupt = dir.File("damaged.webp");
        File.WriteAllBytes(corrupt, DamagedWebp());
        Assert.Null(ImageCheck.HeaderProblem(corrupt));   // the header alone looks fine

        var results = predictor.PredictBatch([images[0], corrupt, images[1], dir.File("missing.jpg"), images[2]]);
        Assert.Equal(5, results.Count);
        Assert.Contains("damaged.webp", results[1].Error);
        Assert.Contains("missing.jpg", results[3].Error);
        foreach (var (result, path) in new[] { (results[0], images[0]), (results[2], images[1]), (results[4], images[2]) })
        {
            Assert.Null(result.Error);
            Assert.Equal(predictor.Predict(path).Score, result.Score);
        }
        Assert.Contains("damaged.webp", Assert.Throws<BadImageException>(() => predictor.Predict(corrupt)).Message);
    }

    // A lossy WebP whose RIFF and VP8 headers are intact and whose compressed data is overwritten.
    internal static byte[] DamagedWebp()
    {
        using var bitmap = new SKBitmap(200, 150);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.SkyBlue);
            using var paint = new SKPaint { Color = SKColors.OrangeRed };
            canvas.DrawCircle(100, 75, 50, paint);
        }
        var bytes = bitmap.Encode(SKEncodedImageFormat.Webp, 90).ToArray();
        var random = new Random(3);
        for (var i = 40; i < bytes.Length - 4; i++) bytes[i] = (byte)random.Next(256);
        return bytes;
    }

    [Fact]
    public async Task A_model_file_replaced_on_disk_is_reloaded_while_requests_keep_succeeding()
    {
        using var dir = new TempDir();
        var path = SaveModel(dir, "model.zip", TrainerKind.Sdca);
        var replacement = SaveModel(dir, "next.zip", TrainerKind.Lbfgs);
        var image = _f.Table.Images[4].ImagePath;
        float[] before, after;
        using (var reference = new PooledPredictor(replacement, new PooledPredictorOptions { WatchForChanges = false })) after = reference.Predict(image).Score;

        using var predictor = new PooledPredictor(path);
        before = predictor.Predict(image).Score;
        Assert.NotEqual(before, after);

        var failures = 0;
        var served = 0;
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var score = predictor.Predict(image).Score;
                    if (!score.SequenceEqual(before) && !score.SequenceEqual(after)) Interlocked.Increment(ref failures);
                    Interlocked.Increment(ref served);
                }
                catch (Exception) { Interlocked.Increment(ref failures); }
            }
        })).ToList();

        File.Move(replacement, path, overwrite: true);   // an atomic replace, as deployments do
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (predictor.ReloadCount == 0 && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        await Task.Delay(300);
        stop.Cancel();
        await Task.WhenAll(callers);

        Assert.Equal(1, predictor.ReloadCount);
        Assert.Equal(0, failures);
        Assert.True(served > 0);
        Assert.Equal(after, predictor.Predict(image).Score);
    }

    [Fact]
    public void A_changed_file_that_is_not_a_model_keeps_the_old_model_serving()
    {
        using var dir = new TempDir();
        var path = SaveModel(dir, "model.zip", TrainerKind.Sdca);
        using var predictor = new PooledPredictor(path, new PooledPredictorOptions { WatchForChanges = false });
        var image = _f.Table.Images[0].ImagePath;
        var expected = predictor.Predict(image).Score;
        File.WriteAllText(path, "half-written");
        Assert.Contains("model.zip", Assert.Throws<InvalidDataException>(() => predictor.Reload()).Message);
        Assert.Equal(expected, predictor.Predict(image).Score);
    }

    [Fact]
    public void A_pipeline_that_maps_its_own_label_column_serves_from_the_image_alone()
    {
        using var dir = new TempDir();
        var ml = new MLContext(0);
        var rows = _f.Table.Images.Where((_, i) => i % 3 == 0).Select(i => new CategoryRow { ImagePath = i.ImagePath, Category = i.Label }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Category")
            .Append(ml.Transforms.ExtractEfficientNetFeatures(_f.Featurizer.Backbone))
            .AppendCacheCheckpoint(ml)
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Category", "Features"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(data);
        ml.Model.Save(model, data.Schema, dir.File("model.zip"));

        using var predictor = new PooledPredictor(dir.File("model.zip"));
        Assert.Equal(["checkers", "discs", "stripes"], predictor.Labels.Order());
        var p = predictor.Predict(rows[0].ImagePath);
        Assert.Contains(p.PredictedLabel, predictor.Labels);
        Assert.Equal(p.PredictedLabel, p.Scores[0].Label);
    }

    [Fact]
    public void Named_models_resolve_from_dependency_injection_and_are_disposed_with_the_container()
    {
        using var dir = new TempDir();
        var first = SaveModel(dir, "first.zip", TrainerKind.Sdca);
        var second = SaveModel(dir, "second.zip", TrainerKind.Lbfgs);
        var services = new ServiceCollection()
            .AddImageClassifier(first)
            .AddImageClassifier("second", second, new PooledPredictorOptions { WatchForChanges = false });
        PooledPredictor resolved;
        using (var provider = services.BuildServiceProvider())
        {
            var classifiers = provider.GetRequiredService<ImageClassifiers>();
            resolved = provider.GetRequiredService<PooledPredictor>();
            Assert.Same(classifiers.Default, resolved);
            Assert.Equal(Path.GetFullPath(second), classifiers["second"].ModelPath);
            Assert.Equal(["default", "second"], classifiers.Names.Order());
            Assert.Contains("'third'", Assert.Throws<KeyNotFoundException>(() => classifiers["third"]).Message);
            var image = _f.Table.Images[0].ImagePath;
            Assert.NotEqual(classifiers.Default.Predict(image).Score, classifiers["second"].Predict(image).Score);
        }
        Assert.Throws<ObjectDisposedException>(() => resolved.Predict(_f.Table.Images[0].ImagePath));
    }

    [Fact]
    public void An_MLImage_already_at_the_models_size_stays_the_callers()
    {
        using var dir = new TempDir();
        using var predictor = new PooledPredictor(SaveModel(dir, "model.zip", TrainerKind.Sdca), new PooledPredictorOptions { MaxRetainedEngines = 1, WatchForChanges = false });
        using var full = MLImageDecoder.DecodeFile(_f.Table.Images[0].ImagePath);
        var square = new byte[256 * 256 * 4];
        for (var i = 0; i < square.Length; i++) square[i] = full.Pixels[i % full.Pixels.Length];
        using var image = Microsoft.ML.Data.MLImage.CreateFromPixels(256, 256, Microsoft.ML.Data.MLPixelFormat.Rgba32, square);
        var first = predictor.Predict(image);
        predictor.Predict(_f.Table.Images[1].ImagePath);   // the engine's next use is where ML.NET would dispose a passed-through image
        Assert.Equal(256, image.Width);
        Assert.Equal(first.Score, predictor.Predict(image).Score);
    }

    [Fact]
    public void A_named_model_that_failed_to_load_loads_once_its_file_is_there()
    {
        using var dir = new TempDir();
        var path = dir.File("later.zip");
        using var provider = new ServiceCollection().AddImageClassifier("later", path, new PooledPredictorOptions { WatchForChanges = false }).BuildServiceProvider();
        var classifiers = provider.GetRequiredService<ImageClassifiers>();
        Assert.Throws<FileNotFoundException>(() => classifiers["later"]);
        File.Copy(SaveModel(dir, "model.zip", TrainerKind.Sdca), path);
        Assert.Equal(3, classifiers["later"].Predict(_f.Table.Images[0].ImagePath).Scores.Count);
    }

    private sealed class CategoryRow
    {
        public string ImagePath { get; set; } = "";
        public string Category { get; set; } = "";
    }
}
