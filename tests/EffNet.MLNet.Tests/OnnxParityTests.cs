using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The exported graph against torchvision's <c>avgpool(features(x))</c>, with seeded random
/// weights and randomised batch-norm statistics (made by the fixture script).
/// </summary>
public class OnnxParityTests
{
    private const double MaxRelativeError = 1e-4;

    [Theory]
    [InlineData("b0")]
    [InlineData("b3")] // width 1.2 ≠ depth 1.4
    [InlineData("b5")] // width 1.6 ≠ depth 2.2, batch-norm ε = 1e-3
    public void Pth_export_matches_torchvision(string variant)
    {
        var (pixels, expected) = Reference(variant);
        var actual = Export(variant, TorchvisionFixtures.File(variant + ".pth"), new FeatureExtractorOptions(), pixels, 2);
        AssertClose(expected, actual, MaxRelativeError);
    }

    [Fact]
    public void Safetensors_export_matches_torchvision()
    {
        var (pixels, expected) = Reference("b0");
        var actual = Export("b0", TorchvisionFixtures.File("b0.safetensors"), new FeatureExtractorOptions(), pixels, 2);
        AssertClose(expected, actual, MaxRelativeError);
    }

    [Fact]
    public void L2_normalisation_gives_the_unit_vector_of_torchvisions_features()
    {
        var (pixels, expected) = Reference("b0");
        var actual = Export("b0", TorchvisionFixtures.File("b0.pth"), new FeatureExtractorOptions { L2Normalize = true }, pixels, 2);
        var d = expected.Length / 2;
        for (var row = 0; row < 2; row++)
        {
            var slice = expected.AsSpan(row * d, d).ToArray();
            var norm = Math.Sqrt(slice.Sum(v => (double)v * v));
            AssertClose(slice.Select(v => (float)(v / norm)).ToArray(), actual.AsSpan(row * d, d).ToArray(), MaxRelativeError);
            Assert.Equal(1.0, Math.Sqrt(actual.AsSpan(row * d, d).ToArray().Sum(v => (double)v * v)), 4);
        }
    }

    [Fact]
    public void Centre_crop_inside_the_graph_sees_the_same_pixels()
    {
        var (pixels, expected) = Reference("b0");
        const int r = 224, big = 256, off = (big - r) / 2;
        var padded = new float[2 * 3 * big * big];
        var noise = new Random(3);
        for (var i = 0; i < padded.Length; i++) padded[i] = noise.Next(256);
        for (var n = 0; n < 2; n++)
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < r; y++)
                    Array.Copy(pixels, ((n * 3 + c) * r + y) * r, padded, ((n * 3 + c) * big + y + off) * big + off, r);
        var actual = Export("b0", TorchvisionFixtures.File("b0.pth"), new FeatureExtractorOptions { InputSize = big }, padded, 2);
        AssertClose(expected, actual, MaxRelativeError);
    }

    [Fact]
    public void Max_pooling_differs_from_average_and_bounds_it()
    {
        var (pixels, expected) = Reference("b0");
        var max = Export("b0", TorchvisionFixtures.File("b0.pth"), new FeatureExtractorOptions { Pooling = Pooling.Max }, pixels, 2);
        Assert.All(Enumerable.Range(0, expected.Length), i => Assert.True(max[i] >= expected[i] - 1e-4f));
        Assert.True(max.Zip(expected).Count(p => p.First > p.Second + 1e-3f) > expected.Length / 4, $"{max.Zip(expected).Count(p => p.First > p.Second + 1e-3f)} {max.Average()} {expected.Average()}");
    }

    [Fact]
    public void Batch_dimension_is_dynamic_and_rows_are_independent()
    {
        var (pixels, expected) = Reference("b0");
        var one = Export("b0", TorchvisionFixtures.File("b0.pth"), new FeatureExtractorOptions(), pixels[..(3 * 224 * 224)], 1);
        AssertClose(expected[..1280], one, MaxRelativeError);
    }

    [Fact]
    public void Graph_has_the_contract_names_and_stable_node_names()
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var model = EfficientNetOnnxExporter.Build(a, RandomWeights.Create(a, 1));
        Assert.Equal("pixels", Assert.Single(model.Graph.Input).Name);
        Assert.Equal("features", Assert.Single(model.Graph.Output).Name);
        Assert.Equal("batch", model.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(1280, model.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Contains(model.Graph.Node, n => n.Name == "block2a_expand_conv" && n.OpType == "Conv");
        Assert.Contains(model.Graph.Node, n => n.Name == "block6d_se_excite");
        // Weights are initializers, never graph inputs.
        Assert.Single(model.Graph.Input);
        Assert.Equal(a.ConvLayers.Count() * 2 + 1, model.Graph.Initializer.Count); // kernel and bias per conv, one normalisation shift
    }

    [Fact]
    public void Random_initialisation_is_deterministic_per_seed_and_gives_finite_varied_features()
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var (pixels, _) = Reference("b0");
        float[] Run(int seed)
        {
            using var s = new FeatureSession(EfficientNetOnnxExporter.ToBytes(a, RandomWeights.Create(a, seed)), 2);
            return s.Run(pixels, 2);
        }
        var first = Run(42);
        Assert.Equal(first, Run(42));
        Assert.NotEqual(first, Run(43));
        Assert.All(first, v => Assert.True(float.IsFinite(v)));
        Assert.True(first.Select(Math.Abs).Average() > 1e-3, $"mean {first.Select(Math.Abs).Average()} max {first.Max()} min {first.Min()}");
        Assert.NotEqual(first[..1280], first[1280..]);

    }

    internal static (float[] Pixels, float[] Features) Reference(string variant)
    {
        var t = SafetensorsReader.Read(TorchvisionFixtures.File(variant + ".reference.safetensors"));
        return (t["pixels"].Data, t["features"].Data);
    }

    private static float[] Export(string variant, string checkpoint, FeatureExtractorOptions options, float[] pixels, int batch)
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse(variant));
        var weights = CheckpointLoader.Load(a, checkpoint);
        using var session = new FeatureSession(EfficientNetOnnxExporter.ToBytes(a, weights, options), 2);
        return session.Run(pixels, batch);
    }

    /// <summary>max |a − e| / max |e|: the error relative to the scale of the reference output.</summary>
    internal static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(v => Math.Abs((double)v));
        var worst = expected.Zip(actual).Max(p => Math.Abs((double)p.First - p.Second));
        Assert.True(worst / scale <= tolerance, $"max relative error {worst / scale:E3} exceeds {tolerance:E1} (max abs error {worst:E3}, scale {scale:E3})");
    }
}
