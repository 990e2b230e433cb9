using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Tests;

public class VariantNameTests
{
    [Fact]
    public void The_named_constants_are_the_published_variants_in_order()
    {
        string[] names = [EfficientNetVariants.B0, EfficientNetVariants.B1, EfficientNetVariants.B2, EfficientNetVariants.B3,
            EfficientNetVariants.B4, EfficientNetVariants.B5, EfficientNetVariants.B6, EfficientNetVariants.B7];
        Assert.Equal(EfficientNetFamily.Published.Select(v => v.Name), names);
        Assert.Equal(EfficientNetFamily.Published, names.Select(EfficientNetVariant.Parse));
        Assert.Equal(EfficientNetVariant.B3, EfficientNetVariant.Parse(EfficientNetVariants.B3));
    }

    [Fact]
    public void Phi_and_custom_sizes_are_the_strings_the_parser_reads()
    {
        Assert.Equal("phi=1.5", EfficientNetVariants.Phi(1.5));
        Assert.Equal(EfficientNetVariant.Parse("phi=1.5"), EfficientNetVariant.Parse(EfficientNetVariants.Phi(1.5)));
        Assert.Equal("w=1.2,d=1.4,r=300", EfficientNetVariants.Custom(1.2, 1.4, 300));
        Assert.Equal(EfficientNetVariant.Custom(1.2, 1.4, 300), EfficientNetVariant.Parse(EfficientNetVariants.Custom(1.2, 1.4, 300)));
    }

    [Fact]
    public void Options_take_the_constant_and_resolve_it()
    {
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = EfficientNetVariants.B1, RandomInit = true });
        Assert.Equal("b1", backbone.Variant);
        Assert.Equal(1280, backbone.FeatureDimension);
        Assert.Equal(240, backbone.Resolution); // torchvision's evaluation crop for B1
    }
}
