using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The exported graph of EfficientNetV2 and EfficientNet-Lite against references from
/// tests/fixtures/make_family_fixtures.py: torchvision's efficientnet_v2_s (and _m), timm's names and tf_
/// padding for V2-S, and a Lite0 written from timm's definition, all data-calibrated. Each comparison
/// shows it would catch BGR input, a shifted crop and a wrong mean (<see cref="ParityCheck"/>), and each
/// reference carries the features of the same weights under an architecture mistake (the wrong
/// activation, a missing squeeze-and-excitation, one Lite does not have, a fused convolution emitted as
/// MBConv's 1×1 expand), every one of which misses by ≥ 0.1.
/// </summary>
public class FamilyParityTests
{
    /// <summary>The bound; measured errors are ~1e-6.</summary>
    private const double Tolerance = 1e-4;

    // Mutation: LayerEmitter.ConvActivation never takes the ReLU6 branch (SiLU for Lite) -> lite0 misses by 0.91: fails.
    // Mutation: LayerEmitter.Block never emits the squeeze-and-excitation -> v2-s misses by 2.8e2, tf-v2-s by 3.8e2: fails.
    // Mutation: TimmNaming names the fused expand-1 convolution conv_exp (not conv) -> tf-v2-s's checkpoint is refused: fails.
    [Theory]
    [InlineData("v2-s", "v2-s", CheckpointFamily.Auto, new[] { "relu6", "no-se", "unfused" })]
    [InlineData("lite0", "lite0", CheckpointFamily.Timm, new[] { "silu", "with-se" })]
    [InlineData("tf-v2-s", "v2-s", CheckpointFamily.TimmTensorFlow, new[] { "relu6", "no-se", "unfused" })]
    public void Export_matches_the_reference_and_each_architecture_mistake_misses(string reference, string variant, CheckpointFamily family, string[] mistakes)
    {
        var r = FamilyFixtures.Reference(reference);
        var (pixels, expected) = (r["pixels"], r["features"]);
        var side = (int)Math.Sqrt(pixels.Length / 6);
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse(variant));
        var weights = CheckpointLoader.Load(a, FamilyFixtures.File(reference + ".pth"), family);
        using var session = new FeatureSession(EfficientNetOnnxExporter.ToBytes(a, weights, new FeatureExtractorOptions { Resolution = side }), 2);
        var actual = session.Run(pixels, 2);
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2), Tolerance);

        Assert.Equal(mistakes.Select(m => "mutated." + m).Order(), r.Keys.Where(k => k.StartsWith("mutated.", StringComparison.Ordinal)).Order());
        foreach (var mistake in mistakes)
        {
            var error = ParityCheck.RelativeError(r["mutated." + mistake], actual);
            Assert.True(error >= 0.1, $"{reference}: the graph is only {error:E2} away from the '{mistake}' mistake's features");
        }
    }

    [Fact]
    public void Lite0_emits_relu6_as_clip_and_no_squeeze_excitation()
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse("lite0"));
        var model = EfficientNetOnnxExporter.Build(a, RandomWeights.Create(a, 1));
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType is "Sigmoid" or "GlobalAveragePool" && n.Name != EfficientNetOnnxExporter.PoolNodeName);
        Assert.Equal(a.ConvLayers.Count(l => l.Role != ConvRole.Project), model.Graph.Node.Count(n => n.OpType == "Clip"));
    }

    [Fact]
    public void A_v2_checkpoint_does_not_load_into_an_unfused_or_lite_architecture()
    {
        // The shape check is what stops a fused block being read as MBConv: the 3×3 full kernel has no 1×1 slot.
        var path = FamilyFixtures.File("v2-s.pth");
        var lite = EfficientNetArchitecture.For(EfficientNetVariant.Parse("lite0"));
        var b0 = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(lite, path));
        Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(b0, path));
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(EfficientNetArchitecture.For(EfficientNetVariant.Parse("v2-m")), path));
        Assert.Contains("v2-m", e.Message);
    }

    [Theory]
    [InlineData("efficientnet_lite0_ra-37913777.pth", CheckpointFamily.Timm)]
    [InlineData("tf_efficientnet_lite0-0aa007d2.pth", CheckpointFamily.TimmTensorFlow)]
    [InlineData("tf_efficientnetv2_s-eb54923e.pth", CheckpointFamily.TimmTensorFlow)]
    public void Timm_file_names_of_the_new_families_say_their_family(string name, CheckpointFamily family) =>
        Assert.Equal(family, CheckpointFamilies.FromFileName(name));

    [Fact]
    [Trait("Category", "Slow")]
    public void V2_m_matches_torchvision()
    {
        var r = FamilyFixtures.Reference("v2-m");
        var (pixels, expected) = (r["pixels"], r["features"]);
        var side = (int)Math.Sqrt(pixels.Length / 6);
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse("v2-m"));
        using var session = new FeatureSession(EfficientNetOnnxExporter.ToBytes(a, CheckpointLoader.Load(a, FamilyFixtures.File("v2-m.pth")),
            new FeatureExtractorOptions { Resolution = side }), 2);
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2), Tolerance);
        foreach (var mistake in new[] { "relu6", "no-se", "unfused" })
            Assert.True(ParityCheck.RelativeError(r["mutated." + mistake], expected) >= 0.1, mistake);
    }
}
