namespace EffNet.MLNet.Tests;

/// <summary>The preprocessing mode is part of what identifies features, so caches never mix the two.</summary>
public class PreprocessingIdentityTests
{
    [Fact]
    public void Torchvision_preprocessing_changes_the_identity_and_fast_keeps_the_old_one()
    {
        var fast = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 7 });
        var exact = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 7, Preprocessing = Preprocessing.TorchvisionExact });
        var b1 = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = "b1", RandomInit = true, Seed = 7, Preprocessing = Preprocessing.TorchvisionExact });
        var custom = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 7, Resolution = 112, Preprocessing = Preprocessing.TorchvisionExact });
        Assert.DoesNotContain("preprocess", fast.Identity);
        Assert.Equal(fast.Identity + ";preprocess=torchvision-bicubic-1", exact.Identity);
        // The catalog's B1 weights (torchvision's V1) are evaluated at 256 → 240, bicubic.
        Assert.Equal((256, 224, "bicubic"), (exact.Preparation.Size, exact.Preparation.Crop, exact.Preparation.Filter.Name));
        Assert.Equal((256, 240, "bicubic"), (b1.Preparation.Size, b1.Preparation.Crop, b1.Preparation.Filter.Name));
        // Another resolution keeps the resize/crop ratio.
        Assert.Equal((128, 112), (custom.Preparation.Size, custom.Preparation.Crop));
    }
}
