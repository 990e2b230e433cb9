using System.Text.Json;
using EffNet.MLNet.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Xunit.Abstractions;

namespace EffNet.MLNet.Tests;

/// <summary>
/// DESIGN.md "Training and serving see the same pixels": on every image of the odd-image corpus,
/// what training computes (the fast decoder, the estimator's Transform) equals what the saved
/// model computes when stock ML.NET loads it (LoadImages → ResizeImages → ExtractPixels → ONNX),
/// image by image, and what <see cref="PooledPredictor"/> feeds it from bytes.
/// </summary>
public class TrainServeParityTests(ITestOutputHelper output)
{
    internal const int Size = 256; // B0's resize size: the square both paths hand to the graph

    private static readonly Lazy<EfficientNetBackbone> B0 = new(() =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { WeightsPath = TorchvisionFixtures.File("b0.pth") }));

    [Fact]
    public void Fast_decoder_pixels_equal_the_saved_chains_pixels_on_every_odd_image()
    {
        var names = ImageCorpus.Names;
        var stock = StockPixels(names.Select(ImageCorpus.File).ToList());
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            var fast = new float[3 * Size * Size];
            FastImageDecoder.Decode(ImageCorpus.File(name), Size, fast);
            var (meanAbs, cosine) = Compare(fast, stock[i]);
            output.WriteLine($"{name}: mean |Δ| {meanAbs:F2} of 255, centred cosine {cosine:F5}");
            Assert.True(meanAbs < 1.0 && cosine > 0.9999, $"{name}: the fast decoder's pixels differ from the saved chain's (mean |Δ| {meanAbs:F2}, centred cosine {cosine:F5})");
        }
        // The comparison sees orientation: the same scene stored rotated (EXIF 6) is a different input.
        var upright = new float[3 * Size * Size];
        FastImageDecoder.Decode(ImageCorpus.File("progressive.jpg"), Size, upright);
        Assert.True(Compare(upright, stock[names.ToList().IndexOf("photo-exif-6.jpg")]).Cosine < 0.9, "a rotated scene must not compare as equal");
    }

    /// <summary>
    /// Flat quadrants and gradients look alike through any resize filter; high-frequency texture does not.
    /// On textures made here (noise, one-pixel checkers, fine gratings; PNG, and JPEG below the size where
    /// the fast decoder would decode at reduced scale), at several sizes and aspect ratios, the fast
    /// decoder's square must equal the saved chain's nearly exactly.
    /// Mutation: FastImageDecoder.Crop draws with SKFilterQuality.Low (bilinear) instead of High -> fails (noise images: mean |Δ| 4.0 and 32.6).
    /// Unmutated, every texture agreed within mean |Δ| 0.05 and 2 levels at most.
    /// </summary>
    [Fact]
    public void Fast_decoder_pixels_equal_the_saved_chains_on_textured_images_of_several_sizes()
    {
        using var dir = new TempDir();
        var files = new List<string>();
        foreach (var (width, height, kind, format) in new[]
                 {
                     (300, 220, 0, SkiaSharp.SKEncodedImageFormat.Png), (513, 389, 1, SkiaSharp.SKEncodedImageFormat.Png),
                     (270, 700, 2, SkiaSharp.SKEncodedImageFormat.Png), (1000, 999, 0, SkiaSharp.SKEncodedImageFormat.Png),
                     (480, 333, 2, SkiaSharp.SKEncodedImageFormat.Jpeg), (400, 500, 1, SkiaSharp.SKEncodedImageFormat.Jpeg),
                 })
        {
            var file = dir.File($"texture-{kind}-{width}x{height}.{(format == SkiaSharp.SKEncodedImageFormat.Png ? "png" : "jpg")}");
            File.WriteAllBytes(file, Texture(width, height, kind, format));
            files.Add(file);
        }
        var stock = StockPixels(files);
        var failures = new List<string>();
        for (var i = 0; i < files.Count; i++)
        {
            var fast = new float[3 * Size * Size];
            FastImageDecoder.Decode(files[i], Size, fast);
            var (meanAbs, _) = Compare(fast, stock[i]);
            var largest = fast.Zip(stock[i], (a, b) => Math.Abs(a - b)).Max();
            output.WriteLine($"{Path.GetFileName(files[i])}: mean |Δ| {meanAbs:F4}, largest {largest} of 255");
            if (!(meanAbs < 0.05 && largest <= 2)) failures.Add($"{Path.GetFileName(files[i])} (mean |Δ| {meanAbs:F4}, largest {largest})");
        }
        Assert.True(failures.Count == 0, "the fast decoder's pixels differ from the saved chain's: " + string.Join("; ", failures));
    }

    // Seeded high-frequency textures: 0 noise, 1 one-pixel colour checkers, 2 fine diagonal gratings.
    private static byte[] Texture(int width, int height, int kind, SkiaSharp.SKEncodedImageFormat format)
    {
        var random = new Random(width * 31 + height * 7 + kind);
        using var bitmap = new SkiaSharp.SKBitmap(width, height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var color = kind switch
            {
                0 => new SkiaSharp.SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)),
                1 => ((x + y) & 1) == 0 ? new SkiaSharp.SKColor(230, 40, 20) : new SkiaSharp.SKColor(20, 60, 240),
                _ => new SkiaSharp.SKColor((byte)(127.5 + 127.5 * Math.Sin(1.9 * x + 0.7 * y)), (byte)(127.5 + 127.5 * Math.Sin(0.4 * x - 2.3 * y)),
                    (byte)(127.5 + 127.5 * Math.Cos(1.3 * (x + y)))),
            };
            bitmap.SetPixel(x, y, color);
        }
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    [Fact]
    public void Training_features_equal_the_saved_models_features_on_every_odd_image()
    {
        var ml = new MLContext(0);
        var names = ImageCorpus.Names;
        var rows = names.Select(n => new PathRow { ImagePath = ImageCorpus.File(n) }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        using var featurizer = ml.Transforms.ExtractEfficientNetFeatures(B0.Value).Fit(data);
        var training = Features(ml, featurizer.Transform(data));

        using var dir = new TempDir();
        ml.Model.Save(featurizer, data.Schema, dir.File("featurizer.zip"));
        var stockMl = new MLContext(1);
        var saved = stockMl.Model.Load(dir.File("featurizer.zip"), out _);
        Assert.IsNotType<EfficientNetFeaturizerTransformer>(saved);
        var serving = Features(stockMl, saved.Transform(stockMl.Data.LoadFromEnumerable(rows)));

        for (var i = 0; i < names.Count; i++)
        {
            var cosine = FeaturizerTests.Cosine(training[i], serving[i]);
            output.WriteLine($"{names[i]}: cosine {cosine:F6}");
            Assert.True(cosine >= 0.999, $"{names[i]}: training and the saved model disagree (cosine {cosine:F6})");
        }
        // The network (calibrated like a trained one) is input-sensitive enough for 0.999 to mean
        // something: the same scene stored rotated, which an EXIF-applying decoder would have turned
        // upright on one side only, is far below it.
        var index = names.ToList();
        var rotated = FeaturizerTests.Cosine(training[index.IndexOf("progressive.jpg")], serving[index.IndexOf("photo-exif-6.jpg")]);
        output.WriteLine($"upright against stored-rotated scene: cosine {rotated:F6}");
        Assert.True(rotated < 0.99, $"the features do not see orientation (cosine {rotated:F6}); the agreement above would prove nothing");
    }

    [Fact]
    public void Bytes_given_to_the_predictor_decode_to_the_pixels_LoadImages_gives()
    {
        var names = ImageCorpus.Names;
        var ml = new MLContext(0);
        var stock = StockPixels(names.Select(ImageCorpus.File).ToList());
        var fromBytes = ml.Transforms.ResizeImages("Resized", Size, Size, "Image", ImageResizingEstimator.ResizingKind.IsoCrop)
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"));
        for (var i = 0; i < names.Count; i++)
        {
            using var image = MLImageDecoder.Decode(File.ReadAllBytes(ImageCorpus.File(names[i])), names[i]);
            var view = ml.Data.LoadFromEnumerable([new ImageInput { Image = image }]);
            var pixels = ml.Data.CreateEnumerable<PixelRow>(fromBytes.Fit(view).Transform(view), reuseRowObject: false).Single().Pixels;
            var (meanAbs, _) = Compare(pixels, stock[i]);
            Assert.True(meanAbs < 0.5, $"{names[i]}: bytes decode differently from LoadImages (mean |Δ| {meanAbs:F3})");
        }
    }

    /// <summary>
    /// Two sides, two decoders: the features <c>effnet train</c> fitted the classifier on (the fast
    /// decode pipeline's, read back from that run's own feature cache) against the features of the
    /// saved model.zip (stock LoadImages → ResizeImages → ExtractPixels → ONNX), image by image on the
    /// validation photos, EXIF-rotated ones included; then <c>evaluate</c> on the saved model
    /// reproduces the report's savedModelOnValidation exactly.
    /// Mutation: FastImageDecoder.Crop mirrors every image (reads column size-1-x) -> fails (training features disagree).
    /// </summary>
    [Fact]
    public void Training_features_equal_the_saved_models_and_evaluate_reproduces_savedModelOnValidation_with_exif_photos()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        var home = Path.Combine(dir.Path, "home");
        TorchvisionFixtures.RunScript("exif-dataset", SampleData.Folder, data);
        var model = dir.File("model.zip");
        var weights = TorchvisionFixtures.File("b0.pth");
        var train = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", model, "--weights", weights, "--trainer", "lbfgs", "--quiet");
        Assert.True(train.Code == 0, train.Err);

        var report = JsonDocument.Parse(File.ReadAllText(dir.File("model.json"))).RootElement;
        var validation = report.GetProperty("data").GetProperty("validationImagePaths").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(validation, p => p.EndsWith("-exif.jpg", StringComparison.Ordinal));

        // The training side: the vectors the classifier was fitted on, as the run cached them.
        var ml = new MLContext(0);
        using var featurizer = ml.Transforms.ExtractEfficientNetFeatures(B0.Value).Fit(ml.Data.LoadFromEnumerable(Array.Empty<PathRow>()));
        using var cache = new Training.FeatureCache(Path.Combine(home, "features"), featurizer.FeatureIdentity, B0.Value.FeatureDimension);
        var training = validation.Select(p => cache.TryGet(Training.FeatureCache.ContentHash(p), out var v) ? v : throw new Xunit.Sdk.XunitException($"{p}: not in the training run's feature cache")).ToList();

        // The serving side: the saved model's own feature column (hidden behind the normalized one of the same name).
        var stockMl = new MLContext(1);
        var saved = stockMl.Model.Load(model, out _);
        var scored = saved.Transform(stockMl.Data.LoadFromEnumerable(validation.Select(p => new PathRow { ImagePath = p })));
        var serving = ColumnValues(scored, scored.Schema.First(c => c.Name == "Features"));

        for (var i = 0; i < validation.Count; i++)
        {
            var cosine = FeaturizerTests.Cosine(training[i], serving[i]);
            output.WriteLine($"{Path.GetFileName(validation[i])}: cosine {cosine:F6}");
            // 0.995, not the odd-image corpus's 0.999: an 800×600 checkerboard stored rotated is decoded by the fast path at
            // half scale inside the JPEG decoder, and its hard edges come out a little softer (measured 0.9977); the mirror
            // mutation gives 0.886 on the first image.
            Assert.True(cosine >= 0.995, $"{validation[i]}: the features training used and the saved model's disagree (cosine {cosine:F6})");
        }

        var manifest = dir.File("validation.csv");
        File.WriteAllLines(manifest, validation.Select(p => $"{p},{Path.GetFileName(Path.GetDirectoryName(p))}"));
        var evaluate = CliTests.EffnetWithHome(home, "evaluate", "--model", model, "--data", manifest, "--json");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Equal(JsonSerializer.Serialize(report.GetProperty("savedModelOnValidation")), JsonSerializer.Serialize(JsonDocument.Parse(evaluate.Out).RootElement));
    }

    internal static List<float[]> ColumnValues(IDataView view, DataViewSchema.Column column)
    {
        var values = new List<float[]>();
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var buffer = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            values.Add(buffer.DenseValues().ToArray());
        }
        return values;
    }

    internal static List<float[]> StockPixels(IReadOnlyList<string> paths)
    {
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));
        var chain = ml.Transforms.LoadImages("Image", "", "ImagePath")
            .Append(ml.Transforms.ResizeImages("Resized", Size, Size, "Image", ImageResizingEstimator.ResizingKind.IsoCrop))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"));
        return ml.Data.CreateEnumerable<PixelRow>(chain.Fit(data).Transform(data), reuseRowObject: false).Select(r => r.Pixels).ToList();
    }

    private static List<float[]> Features(MLContext ml, IDataView view) =>
        ml.Data.CreateEnumerable<FeaturizerTests.FeatureRow>(view, reuseRowObject: false).Select(r => r.Features).ToList();

    private static (double MeanAbs, double Cosine) Compare(float[] a, float[] b)
    {
        double meanA = a.Average(), meanB = b.Average(), abs = 0, dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            abs += Math.Abs(a[i] - b[i]);
            double x = a[i] - meanA, y = b[i] - meanB;
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        var cosine = na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / Math.Sqrt(na * nb);
        return (abs / a.Length, cosine);
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class ImageInput
    {
        [ImageType(1, 1)]
        public MLImage? Image { get; set; }
    }

    private sealed class PixelRow
    {
        [VectorType(3 * Size * Size)]
        public float[] Pixels { get; set; } = [];
    }
}
