using System.Text.Json;
using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Tests;

/// <summary>EfficientNetV2 and EfficientNet-Lite as data: counts from outside the code, and the block shapes.</summary>
public class FamilyArchitectureTests
{
    // torchvision's published num_params (EfficientNet_V2_*_Weights.IMAGENET1K_V1.meta); timm's efficientnet_lite0 card: 4.65 M.
    [Theory]
    [InlineData("v2-s", 21_458_488)]
    [InlineData("v2-m", 54_139_356)]
    [InlineData("v2-l", 118_515_272)]
    [InlineData("lite0", 4_652_008)]
    public void Parameter_counts_equal_the_published_ones(string variant, long parameters)
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse(variant));
        Assert.Equal(parameters, ArchitectureCost.Parameters(a));
        Assert.Equal(1280, a.FeatureDimension);
    }

    // Fixture from tests/fixtures/make_family_fixtures.py counts: forward hooks on torchvision's V2 modules and on the
    // Lite network written there from timm's definition.
    // Mutation: Lite's stem and head scaled with the width (ScaleStemAndHead: true) -> lite2 has 6,265,384 parameters, not 6,092,072: fails.
    [Fact]
    public void Counts_equal_forward_hooks_for_every_v2_and_lite_size()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "family_counts.json")));
        var rows = doc.RootElement.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(["v2-s", "v2-m", "v2-l", "lite0", "lite1", "lite2", "lite3", "lite4"], rows.Select(r => r.GetProperty("variant").GetString()));
        foreach (var row in rows)
        {
            var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse(row.GetProperty("variant").GetString()!));
            Assert.Equal(row.GetProperty("resolution").GetInt32(), a.Variant.Resolution);
            Assert.Equal(row.GetProperty("params").GetInt64(), ArchitectureCost.Parameters(a));
            Assert.Equal(row.GetProperty("paramsNoHead").GetInt64(), ArchitectureCost.Parameters(a, classes: 0));
            Assert.Equal(row.GetProperty("macs").GetInt64(), ArchitectureCost.MultiplyAdds(a));
            Assert.Equal(row.GetProperty("featureDim").GetInt32(), a.FeatureDimension);
        }
    }

    [Fact]
    public void V2_s_has_fused_blocks_without_squeeze_excitation_then_mbconv_with_it()
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse("v2-s"));
        Assert.Equal(Activation.SiLU, a.Activation);
        Assert.Equal(24, a.Stem.OutChannels);
        Assert.Equal(2 + 4 + 4 + 6 + 9 + 15, a.Blocks.Count);
        var first = a.Blocks[0];   // expansion 1: one 3×3 convolution, 24 → 24, with the residual
        Assert.Equal(BlockKind.FusedMBConv, first.Kind);
        Assert.Equal([ConvRole.Fused], first.Layers.Select(l => l.Role));
        Assert.Equal((3, 24, 24), (first.Expand!.Kernel, first.InChannels, first.OutChannels));
        Assert.True(first.HasResidual);
        var expanding = a.Blocks[2];   // stage 2's first: 3×3 stride 2 to 96, 1×1 to 48
        Assert.Equal([ConvRole.Fused, ConvRole.Project], expanding.Layers.Select(l => l.Role));
        Assert.Equal((3, 2, 96), (expanding.Expand!.Kernel, expanding.Expand.Stride, expanding.Expand.OutChannels));
        Assert.False(expanding.HasResidual);
        var mbconv = a.Blocks[10];   // stage 4's first: 64 → 256 → SE 16 → 128
        Assert.Equal(BlockKind.MBConv, mbconv.Kind);
        Assert.Equal(16, mbconv.SqueezeReduce!.OutChannels);
        Assert.Equal(256, mbconv.Depthwise!.OutChannels);
        Assert.All(a.Blocks.Take(10), b => Assert.False(b.HasSqueezeExcite));
        Assert.All(a.Blocks.Skip(10), b => Assert.True(b.HasSqueezeExcite));
    }

    // Mutation: the same ScaleStemAndHead: true -> stem and head (48, 1792) instead of (32, 1280): fails.
    [Fact]
    public void Lite_keeps_stem_head_and_the_outer_stages_fixed_and_has_no_squeeze_excitation()
    {
        var lite4 = EfficientNetArchitecture.For(EfficientNetVariant.Parse("lite4"));
        var b4 = EfficientNetArchitecture.For(EfficientNetVariant.Custom(1.4, 1.8, 300));
        Assert.Equal(Activation.ReLU6, lite4.Activation);
        Assert.Equal((32, 1280), (lite4.Stem.OutChannels, lite4.FeatureDimension));
        Assert.Equal((48, 1792), (b4.Stem.OutChannels, b4.FeatureDimension));
        Assert.All(lite4.Blocks, b => Assert.False(b.HasSqueezeExcite));
        int Repeats(EfficientNetArchitecture a, int stage) => a.Blocks.Count(b => b.Stage == stage);
        Assert.Equal([1, 4, 4, 6, 6, 8, 1], Enumerable.Range(0, 7).Select(s => Repeats(lite4, s)));
        Assert.Equal([2, 4, 4, 6, 6, 8, 2], Enumerable.Range(0, 7).Select(s => Repeats(b4, s)));
    }

    [Theory]
    [InlineData("v2-s", "v2-s")]
    [InlineData("efficientnet_v2_m", "v2-m")]
    [InlineData("V2-L", "v2-l")]
    [InlineData("lite3", "lite3")]
    [InlineData("efficientnet_lite0", "lite0")]
    public void Names_parse_in_the_librarys_and_torchvisions_spelling(string text, string name)
    {
        var v = EfficientNetVariant.Parse(text);
        Assert.Equal(name, v.Name);
        Assert.True(v.IsPublished);
        Assert.Equal(name.StartsWith("v2", StringComparison.Ordinal) ? ArchitectureFamily.EfficientNetV2 : ArchitectureFamily.EfficientNetLite, v.Family);
    }

    [Fact]
    public void The_named_constants_are_the_new_variants()
    {
        string[] names = [EfficientNetVariants.V2S, EfficientNetVariants.V2M, EfficientNetVariants.V2L,
            EfficientNetVariants.Lite0, EfficientNetVariants.Lite1, EfficientNetVariants.Lite2, EfficientNetVariants.Lite3, EfficientNetVariants.Lite4];
        Assert.Equal(EfficientNetV2Family.Variants.Concat(EfficientNetLiteFamily.Variants), names.Select(EfficientNetVariant.Parse));
    }
}
