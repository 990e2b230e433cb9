using System.Globalization;

namespace EffNet.MLNet.Architecture;

/// <summary>
/// A point in the EfficientNet family: a width and depth multiplier applied to the B0 table,
/// and the input resolution the network is meant to see.
/// </summary>
/// <param name="Name">"b0"…"b7", "phi=X" or "custom(w=…,d=…,r=…)".</param>
/// <param name="WidthMultiplier">Channel multiplier (β^φ for the formula).</param>
/// <param name="DepthMultiplier">Repeat multiplier (α^φ for the formula).</param>
/// <param name="Resolution">Square input side in pixels.</param>
/// <param name="Dropout">Dropout before the classifier during training (recorded, unused at inference).</param>
/// <param name="BatchNormEpsilon">ε of every batch-norm layer, needed to fold batch-norm exactly.</param>
public sealed record EfficientNetVariant(
    string Name, double WidthMultiplier, double DepthMultiplier, int Resolution, double Dropout, double BatchNormEpsilon)
{
    /// <summary>Named published variant, e.g. <c>B0</c>.</summary>
    public static EfficientNetVariant B0 => Named("b0");
    /// <summary>Published variant B1.</summary>
    public static EfficientNetVariant B1 => Named("b1");
    /// <summary>Published variant B2.</summary>
    public static EfficientNetVariant B2 => Named("b2");
    /// <summary>Published variant B3.</summary>
    public static EfficientNetVariant B3 => Named("b3");
    /// <summary>Published variant B4.</summary>
    public static EfficientNetVariant B4 => Named("b4");
    /// <summary>Published variant B5.</summary>
    public static EfficientNetVariant B5 => Named("b5");
    /// <summary>Published variant B6.</summary>
    public static EfficientNetVariant B6 => Named("b6");
    /// <summary>Published variant B7.</summary>
    public static EfficientNetVariant B7 => Named("b7");

    /// <summary>The line the variant belongs to; it picks the stage table. Default: the B family.</summary>
    public ArchitectureFamily Family { get; init; } = ArchitectureFamily.EfficientNet;

    /// <summary>True for the named variants: B0…B7, V2-S/M/L and Lite0…4.</summary>
    public bool IsPublished => EfficientNetFamily.AllNamed.Any(v => v == this);

    /// <summary>Explicit multipliers, for sizes the formula does not name.</summary>
    public static EfficientNetVariant Custom(double width, double depth, int resolution, double batchNormEpsilon = 1e-5)
    {
        if (!(width > 0.05 && width <= 10)) throw new ArgumentOutOfRangeException(nameof(width), width, "The width multiplier must lie in (0.05, 10].");
        if (!(depth > 0.05 && depth <= 10)) throw new ArgumentOutOfRangeException(nameof(depth), depth, "The depth multiplier must lie in (0.05, 10].");
        if (resolution < 32 || resolution > 2048) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "The resolution must lie in [32, 2048].");
        var inv = CultureInfo.InvariantCulture;
        return new EfficientNetVariant(
            string.Create(inv, $"custom(w={width:0.###},d={depth:0.###},r={resolution})"), width, depth, resolution, 0.2, batchNormEpsilon);
    }

    /// <summary>
    /// Parse a variant as users write it: <c>b0</c>…<c>b7</c>, <c>v2-s</c>, <c>v2-m</c>, <c>v2-l</c>,
    /// <c>lite0</c>…<c>lite4</c> (or torchvision's and timm's <c>efficientnet_v2_s</c>, <c>efficientnet_lite0</c>),
    /// <c>phi=1.5</c>, or <c>w=1.2,d=1.4,r=300</c>.
    /// </summary>
    public static EfficientNetVariant Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        var named = EfficientNetFamily.AllNamed.FirstOrDefault(v => v.Name == t || "efficientnet_" + v.Name.Replace('-', '_') == t);
        if (named is not null) return named;
        if (t.StartsWith("phi=", StringComparison.Ordinal)
            && double.TryParse(t[4..], NumberStyles.Float, CultureInfo.InvariantCulture, out var phi))
            return EfficientNetFamily.FromPhi(phi);
        if (t.Contains('='))
        {
            double? w = null, d = null; int? r = null;
            foreach (var part in t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var kv = part.Split('=', 2);
                if (kv.Length != 2) throw Unknown(text);
                switch (kv[0])
                {
                    case "w" or "width": w = ParseNumber(kv[1], text); break;
                    case "d" or "depth": d = ParseNumber(kv[1], text); break;
                    case "r" or "resolution": r = (int)ParseNumber(kv[1], text); break;
                    default: throw Unknown(text);
                }
            }
            if (w is null || d is null || r is null) throw Unknown(text);
            return Custom(w.Value, d.Value, r.Value);
        }
        throw Unknown(text);
    }

    private static EfficientNetVariant Named(string name) => EfficientNetFamily.Published.First(v => v.Name == name);

    private static double ParseNumber(string s, string whole) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw Unknown(whole);

    private static ArgumentException Unknown(string text) => new(
        $"Unknown EfficientNet variant '{text}'. Use b0…b7, v2-s, v2-m, v2-l, lite0…lite4, phi=X (for example phi=1.5), or w=W,d=D,r=R (for example w=1.2,d=1.4,r=300).");

    /// <inheritdoc />
    public override string ToString() => Name;
}
