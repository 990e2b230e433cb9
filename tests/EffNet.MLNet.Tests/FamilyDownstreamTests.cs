using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Onnx.Quantization;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>V2 and Lite through the paths users take: <c>effnet export</c>, a bring-your-own ONNX, the featurizer options, int8.</summary>
public class FamilyDownstreamTests
{
    private const double Tolerance = 1e-4;

    // Mutation: LayerEmitter.ConvActivation never takes the ReLU6 branch -> lite0's export misses by 0.91: fails.
    [Theory]
    [InlineData("v2-s", "v2-s", "auto")]
    [InlineData("lite0", "lite0", "timm")]
    public void Effnet_export_from_a_checkpoint_matches_the_reference(string reference, string variant, string family)
    {
        var r = FamilyFixtures.Reference(reference);
        var side = (int)Math.Sqrt(r["pixels"].Length / 6);
        using var dir = new TempDir();
        var output = dir.File(reference + ".onnx");
        var (code, _, stderr) = CliTests.Effnet("export", "--variant", variant, "--weights", FamilyFixtures.File(reference + ".pth"),
            "--weights-family", family, "--resolution", side.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", output);
        Assert.True(code == 0, stderr);
        using var session = new FeatureSession(File.ReadAllBytes(output), 2);
        ParityCheck.AssertMatchesAndCatchesMistakes(r["features"], r["pixels"], 2, p => session.Run(p, 2), Tolerance);
    }

    [Fact]
    public void A_v2_s_classifier_exported_by_torch_onnx_export_is_adapted_to_torchvisions_features()
    {
        var r = FamilyFixtures.Reference("v2-s");
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions
        {
            Variant = EfficientNetVariants.V2S, OnnxModelPath = FamilyFixtures.File("v2-s.classifier.onnx"),
        });
        Assert.Equal(1280, backbone.FeatureDimension);
        Assert.Equal(224, backbone.Resolution);
        Assert.Equal(224, backbone.ResizeSize);   // V2's eval transform has no crop margin
        using var session = new FeatureSession(backbone.ToBytes(), 2);
        ParityCheck.AssertMatchesAndCatchesMistakes(r["features"], r["pixels"], 2, p => session.Run(p, 2), Tolerance);
    }

    [Fact]
    public void Featurizer_options_take_v2_and_lite_with_their_eval_transforms()
    {
        var v2s = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = EfficientNetVariants.V2S, RandomInit = true, Resolution = 96 });
        Assert.Equal((96, 96, "bilinear"), (v2s.ResizeSize, v2s.Resolution, v2s.Interpolation));   // 384 → 384 scaled: no crop margin
        var lite = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = EfficientNetVariants.Lite0, RandomInit = true });
        Assert.Equal((256, 224, "bicubic", 1280), (lite.ResizeSize, lite.Resolution, lite.Interpolation, lite.FeatureDimension));
    }

    // Mutation: "Clip" left out of QuantizationLayout's integer ops -> no Clip reads a quantized tensor: fails.
    [Fact]
    public void Int8_lite0_quantizes_its_relu6_and_keeps_the_features()
    {
        var r = FamilyFixtures.Reference("lite0");
        const int side = 224;
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse("lite0"));
        var graph = EfficientNetOnnxExporter.Build(a, CheckpointLoader.Load(a, FamilyFixtures.File("lite0.pth"), CheckpointFamily.Timm),
            new FeatureExtractorOptions { Resolution = side });
        var calibration = Enumerable.Range(0, 4).Select(i => SyntheticImages.Batch(1, side, 10 + i)).ToList();
        var int8 = Int8Quantizer.Quantize(graph, calibration);
        // A ReLU6 whose output is quantized lets the next convolution run in int8; the float stages' stay float.
        var quantized = int8.Graph.Node.Where(n => n.OpType == "QuantizeLinear").Select(n => n.Input[0]).ToHashSet();
        var clips = int8.Graph.Node.Where(n => n.OpType == "Clip").ToList();
        Assert.Contains(clips, c => quantized.Contains(c.Output[0]));
        using var fp32 = new FeatureSession(Google.Protobuf.MessageExtensions.ToByteArray(graph), 2);
        using var q = new FeatureSession(Google.Protobuf.MessageExtensions.ToByteArray(int8), 2);
        var expected = fp32.Run(r["pixels"], 2);
        var actual = q.Run(r["pixels"], 2);
        for (var row = 0; row < 2; row++)
        {
            var cosine = Cosine(expected.AsSpan(row * 1280, 1280), actual.AsSpan(row * 1280, 1280));
            Assert.True(cosine > 0.95, $"image {row}: int8 against fp32 cosine {cosine:F4}");
        }
    }

    [Fact]
    public void Fine_tuning_refuses_v2_and_lite_before_any_work_with_what_to_do_instead()
    {
        foreach (var name in new[] { "v2-s", "lite0" })
        {
            var e = Assert.Throws<ArgumentException>(() => EffNet.MLNet.FineTuning.FineTuner.RefuseUnsupportedFamily(EfficientNetVariant.Parse(name)));
            Assert.Contains(name, e.Message);
            Assert.Contains("effnet train", e.Message);
        }
        EffNet.MLNet.FineTuning.FineTuner.RefuseUnsupportedFamily(EfficientNetVariant.B0);

        // Mutation: FineTuneRun.Problem without the family check -> passes: FineTuneRun.Execute refuses again (same message,
        // exit code 2) after reading the image headers, and FineTuner.Run a third time. Not a test of that one check.
        using var dir = new TempDir();
        var (code, _, stderr) = CliTests.Effnet("train", "--data", Path.Combine(RepoPaths.Root, "sample-data"), "--fine-tune", "--variant", "v2-s",
            "--random-init", "--out", dir.File("m.zip"));
        Assert.Equal(2, code);
        Assert.Contains("Fine-tuning supports the B family", stderr);
        Assert.False(File.Exists(dir.File("m.zip")));
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
