using System.Globalization;

namespace EffNet.MLNet;

/// <summary>
/// The names <see cref="EfficientNetFeaturizerOptions.Variant"/> takes, for IntelliSense:
/// <c>new EfficientNetFeaturizerOptions { Variant = EfficientNetVariants.B3 }</c>. Each is the plain
/// string (<c>"b3"</c>), so strings keep working, and sizes between the published ones are written
/// with <see cref="Phi"/> or <see cref="Custom"/>.
/// </summary>
public static class EfficientNetVariants
{
    /// <summary>EfficientNet-B0: 224×224, 1280 features, 5.3 M parameters.</summary>
    public const string B0 = "b0";
    /// <summary>EfficientNet-B1: 240×240, 1280 features, 7.8 M parameters.</summary>
    public const string B1 = "b1";
    /// <summary>EfficientNet-B2: 288×288, 1408 features, 9.1 M parameters.</summary>
    public const string B2 = "b2";
    /// <summary>EfficientNet-B3: 300×300, 1536 features, 12.2 M parameters.</summary>
    public const string B3 = "b3";
    /// <summary>EfficientNet-B4: 380×380, 1792 features, 19.3 M parameters.</summary>
    public const string B4 = "b4";
    /// <summary>EfficientNet-B5: 456×456, 2048 features, 30.4 M parameters.</summary>
    public const string B5 = "b5";
    /// <summary>EfficientNet-B6: 528×528, 2304 features, 43.0 M parameters.</summary>
    public const string B6 = "b6";
    /// <summary>EfficientNet-B7: 600×600, 2560 features, 66.3 M parameters.</summary>
    public const string B7 = "b7";

    /// <summary>EfficientNetV2-S: Fused-MBConv early stages, 384×384, 1280 features, 21.5 M parameters.</summary>
    public const string V2S = "v2-s";
    /// <summary>EfficientNetV2-M: 480×480, 1280 features, 54.1 M parameters.</summary>
    public const string V2M = "v2-m";
    /// <summary>EfficientNetV2-L: 480×480, 1280 features, 118.5 M parameters.</summary>
    public const string V2L = "v2-l";
    /// <summary>EfficientNet-Lite0: ReLU6, no squeeze-and-excitation (for integer runtimes), 224×224, 1280 features, 4.7 M parameters.</summary>
    public const string Lite0 = "lite0";
    /// <summary>EfficientNet-Lite1: 240×240, 1280 features, 5.4 M parameters.</summary>
    public const string Lite1 = "lite1";
    /// <summary>EfficientNet-Lite2: 260×260, 1280 features, 6.1 M parameters.</summary>
    public const string Lite2 = "lite2";
    /// <summary>EfficientNet-Lite3: 280×280, 1280 features, 8.2 M parameters.</summary>
    public const string Lite3 = "lite3";
    /// <summary>EfficientNet-Lite4: 300×300, 1280 features, 13.0 M parameters.</summary>
    public const string Lite4 = "lite4";

    /// <summary>The compound-scaled size φ (<c>"phi=X"</c>): depth 1.2^φ, width 1.1^φ, resolution 1.15^φ of B0's.</summary>
    public static string Phi(double phi) => string.Create(CultureInfo.InvariantCulture, $"phi={phi:R}");

    /// <summary>Explicit width and depth multipliers and input resolution (<c>"w=W,d=D,r=R"</c>).</summary>
    public static string Custom(double width, double depth, int resolution) =>
        string.Create(CultureInfo.InvariantCulture, $"w={width:R},d={depth:R},r={resolution}");
}
