using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The exported graph against torchvision's <c>avgpool(features(x))</c> (and timm's layer
/// semantics), with seeded, data-calibrated networks made by the fixture script. Each
/// comparison also shows that BGR input, a crop one pixel off and a wrong mean would fail it.
/// </summary>
public class OnnxParityTests
{
    [Theory]
    [InlineData("b0")]
    [InlineData("b3")] // width 1.2 ≠ depth 1.4
    [InlineData("b5")] // width 1.6 ≠ depth 2.2, batch-norm ε = 1e-3
    public void Pth_export_matches_torchvision(string variant)
    {
        var (pixels, expected) = Reference(variant);
        using var session = Session(variant, TorchvisionFixtures.File(variant + ".pth"), new FeatureExtractorOptions());
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2));
    }

    [Fact]
    public void Safetensors_export_matches_torchvision()
    {
        var (pixels, expected) = Reference("b0");
        using var session = Session("b0", TorchvisionFixtures.File("b0.safetensors"), new FeatureExtractorOptions());
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2));
    }

    [Fact]
    public void L2_normalisation_gives_the_unit_vector_of_torchvisions_features()
    {
        var (pixels, features) = Reference("b0");
        const int d = 1280;
        var expected = new float[features.Length];
        for (var row = 0; row < 2; row++)
        {
            var norm = Math.Sqrt(features.AsSpan(row * d, d).ToArray().Sum(v => (double)v * v));
            for (var i = row * d; i < (row + 1) * d; i++) expected[i] = (float)(features[i] / norm);
        }
        using var session = Session("b0", TorchvisionFixtures.File("b0.pth"), new FeatureExtractorOptions { L2Normalize = true });
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2));
        var actual = session.Run(pixels, 2);
        for (var row = 0; row < 2; row++)
            Assert.Equal(1.0, Math.Sqrt(actual.AsSpan(row * d, d).ToArray().Sum(v => (double)v * v)), 4);
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
        using var session = Session("b0", TorchvisionFixtures.File("b0.pth"), new FeatureExtractorOptions { InputSize = big });
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, padded, 2, p => session.Run(p, 2));
    }

    [Fact]
    public void Timm_b0_matches_timms_layer_semantics()
    {
        // timm's names, and ε = 1e-5 as torchvision's B0: the same features as torchvision's b0 fixture.
        var (pixels, expected) = Reference("timm-b0");
        using var session = Session("b0", TorchvisionFixtures.File("timm-b0.pth"), new FeatureExtractorOptions(), CheckpointFamily.Timm);
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2));
    }

    [Fact]
    public void Timm_b5_uses_timms_batch_norm_epsilon_not_torchvisions()
    {
        var (pixels, expected) = Reference("timm-b5");
        using var session = Session("b5", TorchvisionFixtures.File("timm-b5.safetensors"), new FeatureExtractorOptions(), CheckpointFamily.Timm);
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2));
        // The torchvision b5 fixture has the same parameters and images but ε = 1e-3: what
        // folding timm's B5 with torchvision's ε would give, and the test would see it.
        var (samePixels, torchvisionEpsilon) = Reference("b5");
        Assert.Equal(pixels, samePixels);
        Assert.True(ParityCheck.RelativeError(expected, torchvisionEpsilon) > ParityCheck.Tolerance,
            $"ε 1e-3 instead of 1e-5 moves B5's features by only {ParityCheck.RelativeError(expected, torchvisionEpsilon):E2}");
    }

    [Fact]
    public void Timm_tf_b0_gets_tensorflow_same_padding_and_epsilon_1e3()
    {
        var (pixels, expected) = Reference("tf-b0");
        var a = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var weights = CheckpointLoader.Load(a, TorchvisionFixtures.File("tf-b0.pth"), CheckpointFamily.TimmTensorFlow);
        Assert.Equal(CheckpointFamily.TimmTensorFlow, weights.Family);
        using (var session = new FeatureSession(EfficientNetOnnxExporter.ToBytes(a, weights), 2))
            ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2));

        // Either half of the tf_ semantics alone misses: symmetric padding with ε = 1e-3, and SAME padding with ε = 1e-5.
        var symmetric = weights with { Family = CheckpointFamily.Timm };
        var smallEpsilon = CheckpointLoader.Load(a, TorchvisionFixtures.File("tf-b0.pth"), CheckpointFamily.Timm) with { Family = CheckpointFamily.TimmTensorFlow };
        foreach (var (mistake, wrong) in new[] { ("symmetric padding", symmetric), ("ε = 1e-5", smallEpsilon) })
        {
            using var session = new FeatureSession(EfficientNetOnnxExporter.ToBytes(a, wrong), 2);
            var error = ParityCheck.RelativeError(expected, session.Run(pixels, 2));
            Assert.True(error > ParityCheck.Tolerance, $"with {mistake} the error is only {error:E2}");
        }
    }

    [Fact]
    public void Timm_tf_checkpoint_named_as_timm_names_it_is_loaded_as_tf()
    {
        using var dir = new TempDir();
        var hub = Path.Combine(dir.Path, "models--timm--tf_efficientnet_b0.ns_jft_in1k", "snapshots", "0123abc");
        Directory.CreateDirectory(hub);
        var a = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var (pixels, expected) = Reference("tf-b0");
        foreach (var path in new[] { dir.File("tf_efficientnet_b0_aa-827b6e33.pth"), Path.Combine(hub, "model.pth") })
        {
            File.Copy(TorchvisionFixtures.File("tf-b0.pth"), path);
            var weights = CheckpointLoader.Load(a, path);
            Assert.Equal(CheckpointFamily.TimmTensorFlow, weights.Family);
            using var session = new FeatureSession(EfficientNetOnnxExporter.ToBytes(a, weights), 2);
            ParityCheck.AssertClose(expected, session.Run(pixels, 2));
        }
    }

    [Fact]
    public void Max_pooling_differs_from_average_and_bounds_it()
    {
        var (pixels, expected) = Reference("b0");
        using var session = Session("b0", TorchvisionFixtures.File("b0.pth"), new FeatureExtractorOptions { Pooling = Pooling.Max });
        var max = session.Run(pixels, 2);
        Assert.All(Enumerable.Range(0, expected.Length), i => Assert.True(max[i] >= expected[i] - 1e-4f));
        Assert.True(max.Zip(expected).Count(p => p.First > p.Second + 1e-3f) > expected.Length / 4, $"{max.Zip(expected).Count(p => p.First > p.Second + 1e-3f)} {max.Average()} {expected.Average()}");
    }

    [Fact]
    public void Batch_dimension_is_dynamic_and_rows_are_independent()
    {
        var (pixels, expected) = Reference("b0");
        using var session = Session("b0", TorchvisionFixtures.File("b0.pth"), new FeatureExtractorOptions());
        ParityCheck.AssertMatchesAndCatchesMistakes(expected[..1280], pixels[..(3 * 224 * 224)], 1, p => session.Run(p, 1));
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

    private static FeatureSession Session(string variant, string checkpoint, FeatureExtractorOptions options, CheckpointFamily family = CheckpointFamily.Auto)
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse(variant));
        return new FeatureSession(EfficientNetOnnxExporter.ToBytes(a, CheckpointLoader.Load(a, checkpoint, family), options), 2);
    }
}
