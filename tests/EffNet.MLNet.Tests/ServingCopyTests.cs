using EffNet.MLNet.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;
using Xunit.Abstractions;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Serving holds one full-size copy of an image's pixels: the saved model's resize is made from the decode
/// when the model's first step is the square <c>ResizeImages</c> (IsoCrop, centre) this library saves, and
/// the predictions stay exactly the stock model's. The models here are small pixel classifiers (resize,
/// pixels, a trainer: no ONNX), so a difference of one pixel changes the scores.
/// </summary>
public class ServingCopyTests(ITestOutputHelper output)
{
    private const int Side = 24;

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class Scored
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    private static IEnumerable<string> SampleImages(int each) =>
        new[] { "checkers", "discs", "stripes" }.SelectMany(label => Directory.GetFiles(Path.Combine(SampleData.Folder, label)).Order().Take(each));

    // A classifier of resized pixels; extra: a second reader of the full image, when given.
    private static string SavePixelModel(string path, ImageResizingEstimator.Anchor anchor = ImageResizingEstimator.Anchor.Center, bool readsFullImageTwice = false)
    {
        var ml = new MLContext(seed: 0);
        var rows = SampleImages(6).Select(p => new PathRow { ImagePath = p, Label = Path.GetFileName(Path.GetDirectoryName(p))! }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.LoadImages("Image", "", nameof(PathRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Resized", Side, Side, "Image", ImageResizingEstimator.ResizingKind.IsoCrop, anchor))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"));
        var features = new List<string> { "Pixels" };
        IEstimator<ITransformer> chain = pipeline;
        if (readsFullImageTwice)
        {
            chain = chain.Append(ml.Transforms.ResizeImages("Small", 8, 8, "Image", ImageResizingEstimator.ResizingKind.Fill))
                .Append(ml.Transforms.ExtractPixels("SmallPixels", "Small"));
            features.Add("SmallPixels");
        }
        var model = chain.Append(ml.Transforms.Concatenate("Features", [.. features]))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);
        ml.Model.Save(model, data.Schema, path);
        return path;
    }

    private static float[] StockScore(string model, string image)
    {
        var ml = new MLContext(seed: 0);
        var loaded = ml.Model.Load(model, out _);
        var engine = ml.Model.CreatePredictionEngine<PathRow, Scored>(loaded);
        return engine.Predict(new PathRow { ImagePath = image }).Score;
    }

    // Odd shapes and transparency: wide, tall, exactly square, smaller than the square, with alpha.
    private static List<string> OddImages(TempDir dir)
    {
        var images = new List<string>();
        foreach (var (w, h, format) in new[] { (97, 41, SKEncodedImageFormat.Png), (41, 97, SKEncodedImageFormat.Jpeg), (Side, Side, SKEncodedImageFormat.Png), (13, 7, SKEncodedImageFormat.Png), (300, 200, SKEncodedImageFormat.Webp) })
        {
            using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                    bitmap.SetPixel(x, y, new SKColor((byte)(x * 7 + y), (byte)(y * 5), (byte)(x * y), (byte)(format == SKEncodedImageFormat.Png ? 40 + (x + y) % 200 : 255)));
            using var encoded = SKImage.FromBitmap(bitmap).Encode(format, 95);
            var path = dir.File($"odd-{w}x{h}.{format.ToString().ToLowerInvariant()}");
            File.WriteAllBytes(path, encoded.ToArray());
            images.Add(path);
        }
        return [.. images, .. SampleImages(2)];
    }

    // Mutation: ModelGeneration.Reduce builds the square as MLPixelFormat.Bgra32 (red and blue swapped) -> the
    // served scores differ from the stock model's -> fails. Mutation: drop the exact-size copy in FastImageDecoder.Square -> the 24×24 PNG is blurred by a cubic draw at scale 1, which
    // ML.NET's resize (passing it through) never does -> fails (this was a training/serving difference too).
    [Fact]
    public void A_model_starting_with_the_libraries_resize_is_served_from_one_copy_with_the_stock_models_scores()
    {
        using var dir = new TempDir();
        var model = SavePixelModel(dir.File("model.zip"));
        using var predictor = new PooledPredictor(model, new PooledPredictorOptions { WatchForChanges = false });
        Assert.Equal(Side, predictor.InputSquare);
        var images = OddImages(dir);
        foreach (var image in images)
        {
            var stock = StockScore(model, image);
            Assert.Equal(stock, predictor.Predict(image).Score);
            Assert.Equal(stock, predictor.Predict(File.ReadAllBytes(image), "upload").Score);
        }
        Assert.Equal(images.Select(i => StockScore(model, i)), predictor.PredictBatch(images).Select(p => p.Score));
    }

    // Mutation: ServingInputSquare.ReadsOnlyTheSquare returns true -> the second resize sees the 24² square
    // instead of the full image, InputSquare is 24 and the scores differ -> fails. Mutation: ResizesAsWeDo
    // returns true -> the top-anchored model is fed a centre crop: fails.
    [Theory]
    [InlineData(ImageResizingEstimator.Anchor.Top, false)]
    [InlineData(ImageResizingEstimator.Anchor.Center, true)]
    public void A_model_whose_resize_serving_cannot_reproduce_gets_the_full_image_and_the_stock_scores(ImageResizingEstimator.Anchor anchor, bool readsFullImageTwice)
    {
        using var dir = new TempDir();
        var model = SavePixelModel(dir.File("model.zip"), anchor, readsFullImageTwice);
        using var predictor = new PooledPredictor(model, new PooledPredictorOptions { WatchForChanges = false });
        Assert.Null(predictor.InputSquare);
        foreach (var image in OddImages(dir).Take(3))
            Assert.Equal(StockScore(model, image), predictor.Predict(image).Score);
    }

    // A 48 MP photo-like JPEG (183 MiB decoded): the served request's peak over a small image's is about one
    // decoded copy. Measured (2-core EPYC, effnet predict, peak working set over a small image's): the full
    // image handed to ML.NET (the decode, its MLImage, ML.NET's draw): +370 MB; the square made from the decode: +186 MB.
    // Mutation: ModelGeneration.Reduce returns null for the model's own square (the full image goes to ML.NET
    // as before) -> the peak grows by about three copies -> fails.
    [Fact]
    public void Predicting_a_48_MP_image_costs_one_decoded_copy_not_three()
    {
        using var dir = new TempDir();
        var model = SavePixelModel(dir.File("model.zip"));
        var big = dir.File("big.jpg");
        const int width = 8000, height = 6000;
        using (var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque)))
        {
            using (var canvas = new SKCanvas(bitmap))
            using (var paint = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height), [SKColors.Navy, SKColors.Orange, SKColors.Teal], SKShaderTileMode.Mirror) })
                canvas.DrawRect(0, 0, width, height, paint);
            using var encoded = SKImage.FromBitmap(bitmap).Encode(SKEncodedImageFormat.Jpeg, 90);
            File.WriteAllBytes(big, encoded.ToArray());
        }
        var small = SampleImages(1).First();
        var decoded = (long)width * height * 4;

        var baseline = PeakMemory.Run(dir.File("home"), ["predict", "--model", model, small]);
        Assert.True(baseline.Code == 0, baseline.Err);
        var run = PeakMemory.Run(dir.File("home"), ["predict", "--model", model, big]);
        Assert.True(run.Code == 0, run.Err);
        var extra = run.PeakBytes - baseline.PeakBytes;
        output.WriteLine($"peak {run.PeakBytes:N0} bytes with the 48 MP image, {baseline.PeakBytes:N0} with a small one: +{extra:N0}");
        Assert.True(extra < decoded * 3 / 2, $"predicting the 48 MP image took {extra:N0} bytes over a small one's peak ({baseline.PeakBytes:N0}); one decoded copy is {decoded:N0}");
    }
}
