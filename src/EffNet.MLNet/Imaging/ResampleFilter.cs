namespace EffNet.MLNet.Imaging;

/// <summary>
/// A resampling kernel as Pillow defines it (<c>Resample.c</c>): its support at scale 1 and its
/// weight function. Pillow stretches the support by the downscale factor, which is its antialiasing.
/// </summary>
internal sealed class ResampleFilter
{
    private readonly Func<double, double> _weight;

    private ResampleFilter(string name, double support, Func<double, double> weight)
    {
        Name = name;
        Support = support;
        _weight = weight;
    }

    public string Name { get; }

    public double Support { get; }

    public double Weight(double x) => _weight(x);

    /// <summary>Keys' cubic with a = -0.5, Pillow's BICUBIC (and torchvision's for PIL images).</summary>
    public static ResampleFilter Bicubic { get; } = new("bicubic", 2.0, x =>
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    });

    /// <summary>The triangle, Pillow's BILINEAR.</summary>
    public static ResampleFilter Bilinear { get; } = new("bilinear", 1.0, x =>
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    });

    /// <summary>The filter a catalog evaluation transform names ("bicubic" or "bilinear").</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static ResampleFilter Named(string interpolation) => interpolation switch
    {
        "bicubic" => Bicubic,
        "bilinear" => Bilinear,
        _ => throw new ArgumentException($"Unknown interpolation '{interpolation}'; expected bicubic or bilinear.", nameof(interpolation)),
    };
}
