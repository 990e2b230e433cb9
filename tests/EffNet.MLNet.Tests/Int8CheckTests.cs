using EffNet.MLNet.Imaging;
using EffNet.MLNet.Onnx;

namespace EffNet.MLNet.Tests;

public class Int8CheckTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData("photo", 3)]
    [InlineData("smooth", 3)]
    [InlineData("photo", 12)]
    [InlineData("smooth", 12)]
    public void Explore(string network, int budget)
    {
        var weights = network == "photo" ? PhotoFixtures.B0 : TorchvisionFixtures.File("b0.pth");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var fp32 = Resolve(weights, Precision.Float32, null, null);
        var int8 = Resolve(weights, Precision.Int8, PhotoFixtures.CalibrationWithWallpapers, new Int8Target { MaxFloatLayers = budget });
        output.WriteLine($"resolve {watch.Elapsed.TotalSeconds:F1} s");
        var f = int8.Int8Fidelity!;
        output.WriteLine($"{network}: all-int8 {f.AllInt8MedianCosine:F4}/{f.AllInt8FifthPercentileCosine:F4}; chosen {f.MedianCosine:F4}/{f.FifthPercentileCosine:F4}/{f.WorstCosine:F4} float [{string.Join(",", f.FloatLayers)}] fell back {f.FellBackToFloat32} {f.Warning} held out {string.Join(",", f.HeldOutImages.Select(Path.GetFileName))}");
        var photos = PhotoFixtures.ScoringWithWallpapers;
        var a = Features(fp32, photos);
        var b = Features(int8, photos);
        var c = photos.Select((p, i) => (Path.GetFileName(p), Cosine(a[i], b[i]))).ToList();
        var sorted = c.Select(x => x.Item2).Order().ToList();
        output.WriteLine($"scoring: median {sorted[sorted.Count / 2]:F4} worst {sorted[0]:F4}: {string.Join(", ", c.Select(x => $"{x.Item1} {x.Item2:F4}"))}");
    }

    private static EfficientNetBackbone Resolve(string? weights, Precision precision, IReadOnlyList<string>? calibration, Int8Target? target) =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions
        {
            Variant = "b0", WeightsPath = weights, RandomInit = weights is null, Precision = precision, CalibrationImages = calibration, Int8Target = target,
        });

    private static List<float[]> Features(EfficientNetBackbone backbone, IReadOnlyList<string> images)
    {
        using var session = new FeatureSession(backbone.ToBytes(), intraOpThreads: 1);
        return images.Select(path =>
        {
            var pixels = new float[session.ImageSize];
            FastImageDecoder.Decode(path, backbone.ResizeSize, pixels);
            return session.Run(pixels, 1);
        }).ToList();
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
