using EffNet.MLNet.Imaging;
using Microsoft.ML;
using Xunit.Abstractions;

namespace EffNet.MLNet.Tests;

/// <summary>
/// <see cref="Preprocessing.TorchvisionExact"/> against torchvision itself (PIL decode, Resize(256, bicubic,
/// antialias), CenterCrop(224)) on real photographs, with a data-calibrated B0 whose features depend on the image.
/// </summary>
[Trait("Category", "Slow")]
public class PreprocessingFidelityTests(ITestOutputHelper output)
{
    private static readonly PreprocessFixtures Fixture = PreprocessFixtures.B0;

    [Fact]
    public void Torchvision_exact_features_match_torchvision_on_every_photo_and_fast_ones_do_not()
    {
        var exact = Cosines(Preprocessing.TorchvisionExact);
        var fast = Cosines(Preprocessing.Fast);
        for (var i = 0; i < Fixture.Names.Count; i++)
            output.WriteLine($"{Fixture.Names[i],-28} exact {exact[i]:F5}  fast {fast[i]:F5}");
        output.WriteLine($"exact: median {Median(exact):F5} worst {exact.Min():F5}; fast: median {Median(fast):F5} worst {fast.Min():F5}");
        Assert.True(Median(exact) >= 0.999, $"median cosine {Median(exact):F5} < 0.999");
        Assert.True(exact.Min() >= 0.99, $"worst cosine {exact.Min():F5} < 0.99 ({Fixture.Names[Array.IndexOf(exact, exact.Min())]})");
        // The reference is sensitive enough to tell the fast resize from torchvision's.
        Assert.True(Median(fast) < 0.999, $"fast median {Median(fast):F5}: the comparison cannot tell resizes apart");
    }

    [Fact]
    public void The_comparison_would_catch_a_wrong_filter()
    {
        // Bilinear (what torchvision's B1 V2 weights use) where B0's weights use bicubic: the same check must fail.
        var bilinear = Cosines(new ImagePreparation(Preprocessing.TorchvisionExact, 256, 224, ResampleFilter.Bilinear));
        output.WriteLine($"bilinear: median {Median(bilinear):F5} worst {bilinear.Min():F5}");
        Assert.False(Median(bilinear) >= 0.999 && bilinear.Min() >= 0.99, $"bilinear passes too: median {Median(bilinear):F5}, worst {bilinear.Min():F5}");
    }

    [Fact]
    public void Decoded_pixels_equal_torchvisions_crop()
    {
        var preparation = new ImagePreparation(Preprocessing.TorchvisionExact, 256, 224, ResampleFilter.Bicubic);
        var square = new float[3 * 256 * 256];
        var paths = Fixture.ImagePaths.ToList();
        for (var i = 0; i < paths.Count; i++)
        {
            preparation.Decode(paths[i], square, acceptTruncated: false);
            var (differing, largest) = CompareCrop(square, Fixture.Pixels.AsSpan(i * 3 * 224 * 224, 3 * 224 * 224));
            output.WriteLine($"{Fixture.Names[i],-28} {differing} values differ, by at most {largest}");
            // Exact for every image, JPEGs included. Pillow here decodes JPEGs with Debian's libjpeg-turbo and Skia
            // with the libjpeg-turbo it bundles; both use the accurate integer IDCT and fancy upsampling, so the
            // pixels agree to the bit. A JPEG library with another IDCT or upsampler (IJG libjpeg 9, a build
            // defaulting to the fast IDCT) could differ by a rounding: then this fails, and it should say which.
            Assert.True(differing == 0, $"{Fixture.Names[i]}: {differing} values differ from torchvision's crop, by at most {largest}");
        }
    }

    private static (int Differing, float Largest) CompareCrop(float[] square, ReadOnlySpan<float> reference)
    {
        var differing = 0;
        var largest = 0f;
        for (var c = 0; c < 3; c++)
        for (var y = 0; y < 224; y++)
        for (var x = 0; x < 224; x++)
        {
            var d = Math.Abs(square[(c * 256 + y + 16) * 256 + x + 16] - reference[(c * 224 + y) * 224 + x]);
            if (d > 0) differing++;
            largest = Math.Max(largest, d);
        }
        return (differing, largest);
    }

    private static double[] Cosines(Preprocessing mode)
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Fixture.ImagePaths.Select(p => new ImageRow { ImagePath = p }));
        var options = new EfficientNetFeaturizerOptions { WeightsPath = Fixture.Checkpoint, Preprocessing = mode, BatchSize = 4 };
        using var featurizer = ml.Transforms.ExtractEfficientNetFeatures(options: options).Fit(data);
        var rows = ml.Data.CreateEnumerable<FeaturizerTests.FeaturesOnly>(featurizer.Transform(data), reuseRowObject: false).ToList();
        return rows.Select((r, i) => FeaturizerTests.Cosine(r.Features, Fixture.FeaturesOf(i))).ToArray();
    }

    private static double[] Cosines(ImagePreparation preparation)
    {
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { WeightsPath = Fixture.Checkpoint });
        using var session = new FeatureSession(backbone.ToBytes(), 2);
        var pixels = new float[session.ImageSize];
        return Fixture.ImagePaths.Select((path, i) =>
        {
            preparation.Decode(path, pixels, acceptTruncated: false);
            return FeaturizerTests.Cosine(session.Run(pixels, 1), Fixture.FeaturesOf(i));
        }).ToArray();
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
