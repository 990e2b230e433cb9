using System.Text.Json;
using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Tests;

public class ArchitectureTests
{
    // DESIGN.md / torchvision's published parameter counts and feature dimensions.
    [Theory]
    [InlineData("b0", 5_288_548, 1280)]
    [InlineData("b1", 7_794_184, 1280)]
    [InlineData("b2", 9_109_994, 1408)]
    [InlineData("b3", 12_233_232, 1536)]
    [InlineData("b4", 19_341_616, 1792)]
    [InlineData("b5", 30_389_784, 2048)]
    [InlineData("b6", 43_040_704, 2304)]
    [InlineData("b7", 66_347_960, 2560)]
    public void Parameter_counts_equal_torchvision(string variant, long parameters, int featureDim)
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.Parse(variant));
        Assert.Equal(parameters, ArchitectureCost.Parameters(a));
        Assert.Equal(featureDim, a.FeatureDimension);
        Assert.Equal(parameters - (featureDim * 1000L + 1000), ArchitectureCost.Parameters(a, classes: 0));
    }

    // The paper's multiply-adds (table 2) at the paper's resolutions.
    [Theory]
    [InlineData("b0", 0.39e9, 0.03)]
    [InlineData("b1", 0.70e9, 0.03)]
    [InlineData("b2", 1.0e9, 0.03)]
    [InlineData("b3", 1.8e9, 0.03)]
    // B4 and B5 are printed lower in the paper than their own architecture computes: every
    // independent count (torchvision hooks below, thop, timm) gets 4.39 and 10.27 billion.
    [InlineData("b4", 4.2e9, 0.05)]
    [InlineData("b5", 9.9e9, 0.04)]
    [InlineData("b6", 19e9, 0.03)]
    [InlineData("b7", 37e9, 0.03)]
    public void Multiply_adds_are_close_to_the_paper(string variant, double paper, double tolerance)
    {
        var macs = ArchitectureCost.MultiplyAdds(EfficientNetArchitecture.For(EfficientNetVariant.Parse(variant)));
        Assert.InRange(macs / paper, 1 - tolerance, 1 + tolerance);
    }

    [Fact]
    public void Counts_equal_torchvisions_own_module_hooks_for_every_variant()
    {
        // Fixture written by tests/fixtures/make_torchvision_fixtures.py counts (forward hooks on torchvision's modules).
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "torchvision_counts.json")));
        var rows = doc.RootElement.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(8, rows.Count);
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

    [Theory]
    [InlineData(32, 1.0, 32)]
    [InlineData(32, 1.1, 32)]   // 35.2 → 32 (within 10%)
    [InlineData(32, 1.4, 48)]   // 44.8 → 48
    [InlineData(16, 1.8, 32)]   // 28.8 → 32
    [InlineData(24, 1.2, 32)]   // 28.8 → 32
    [InlineData(40, 1.1, 48)]   // 44 → 48 (nearest, ties up)
    [InlineData(8, 0.25, 8)]    // never below the divisor
    [InlineData(100, 0.5, 48)]  // 50 → 48, only 4% below
    public void Channels_round_to_multiples_of_8_never_losing_more_than_10_percent(int channels, double width, int expected)
    {
        var rounded = EfficientNetFamily.RoundChannels(channels, width);
        Assert.Equal(expected, rounded);
        Assert.Equal(0, rounded % 8);
        Assert.True(rounded >= 0.9 * channels * width);
    }

    [Fact]
    public void Repeats_round_up()
    {
        Assert.Equal(2, EfficientNetFamily.RoundRepeats(1, 1.1));
        Assert.Equal(3, EfficientNetFamily.RoundRepeats(2, 1.4));
        Assert.Equal(4, EfficientNetFamily.RoundRepeats(4, 1.0));
        // B3: 1.4 × [1,2,2,3,3,4,1] → [2,3,3,5,5,6,2] blocks per stage.
        var b3 = EfficientNetArchitecture.For(EfficientNetVariant.B3);
        Assert.Equal(new[] { 2, 3, 3, 5, 5, 6, 2 }, b3.Blocks.GroupBy(b => b.Stage).Select(g => g.Count()));
    }

    [Fact]
    public void Phi_follows_the_compound_rule_and_roughly_doubles_flops_per_step()
    {
        var phi0 = EfficientNetFamily.FromPhi(0);
        Assert.Equal(1.0, phi0.WidthMultiplier);
        Assert.Equal(1.0, phi0.DepthMultiplier);
        Assert.Equal(224, phi0.Resolution);

        var phi2 = EfficientNetVariant.Parse("phi=2");
        Assert.Equal(1.21, phi2.WidthMultiplier, 10);
        Assert.Equal(1.44, phi2.DepthMultiplier, 10);
        Assert.Equal(296, phi2.Resolution); // 224·1.15² = 296.2
        Assert.Equal(1.2 * 1.1 * 1.1 * 1.15 * 1.15, EfficientNetFamily.Alpha * Math.Pow(EfficientNetFamily.Beta, 2) * Math.Pow(EfficientNetFamily.Gamma, 2), 12);

        long Macs(double phi) => ArchitectureCost.MultiplyAdds(EfficientNetArchitecture.For(EfficientNetFamily.FromPhi(phi)));
        for (var phi = 0; phi < 4; phi++)
            Assert.InRange(Macs(phi + 1) / (double)Macs(phi), 1.6, 2.5);
    }

    [Fact]
    public void B0_block_list_matches_the_paper_table()
    {
        var b0 = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        Assert.Equal(16, b0.Blocks.Count);
        Assert.Equal(32, b0.Stem.OutChannels);
        Assert.Equal(new[] { 16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320 }, b0.Blocks.Select(b => b.OutChannels));
        Assert.Null(b0.Blocks[0].Expand);
        Assert.Equal(8, b0.Blocks[0].SqueezeReduce.OutChannels);     // 32 / 4
        Assert.Equal(96, b0.Blocks[1].Depthwise.OutChannels);        // 16 × 6
        Assert.Equal(4, b0.Blocks[1].SqueezeReduce.OutChannels);     // 16 / 4: from the input, not the expansion
        Assert.Equal(new[] { false, false, true, false, true, false, true, true, false, true, true, false, true, true, true, false },
            b0.Blocks.Select(b => b.HasResidual));
        Assert.Equal("block2a_expand_conv", b0.Blocks[1].Expand!.Name);
        Assert.Equal("block6d_se_reduce", b0.Blocks[14].SqueezeReduce.Name);
    }

    [Theory]
    [InlineData("B3", "b3")]
    [InlineData("efficientnet_b7", "b7")]
    [InlineData("phi=1.5", "phi=1.5")]
    [InlineData("w=1.2,d=1.4,r=300", "custom(w=1.2,d=1.4,r=300)")]
    public void Variants_parse(string text, string name) => Assert.Equal(name, EfficientNetVariant.Parse(text).Name);

    [Fact]
    public void Explicit_multipliers_equal_to_b3_give_b3s_network()
    {
        var custom = EfficientNetArchitecture.For(EfficientNetVariant.Parse("w=1.2,d=1.4,r=300"));
        Assert.Equal(12_233_232, ArchitectureCost.Parameters(custom));
    }

    [Theory]
    [InlineData("b8")]
    [InlineData("phi=abc")]
    [InlineData("w=1.2")]
    [InlineData("resnet50")]
    public void Unknown_variants_are_refused_with_the_accepted_forms(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => EfficientNetVariant.Parse(text));
        Assert.Contains(text, ex.Message);
        Assert.Contains("b0…b7", ex.Message);
    }
}
