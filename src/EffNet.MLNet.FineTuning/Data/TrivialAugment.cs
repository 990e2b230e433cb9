namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// TrivialAugment (Müller and Hutter, 2021): one operation drawn uniformly from the list below, at a magnitude
/// drawn uniformly in [0, 1] and, for the signed ones, a random sign. The ranges are RandAugment's as torchvision
/// states them (enhance factors 1 ± 0.9, rotation ±30°, shear ±0.3, translation ±150/331 of the side, posterize
/// 8…4 bits, solarize threshold 255…0), not TrivialAugmentWide's: its ±135° rotation turns one direction into another.
/// </summary>
internal static class TrivialAugment
{
    internal enum Op { Identity, Brightness, Contrast, Color, Sharpness, Posterize, Solarize, AutoContrast, Equalize, Rotate, ShearX, ShearY, TranslateX, TranslateY }

    internal static readonly Op[] All = Enum.GetValues<Op>();

    /// <summary>Draw an operation, magnitude and sign from <paramref name="random"/> and apply it.</summary>
    public static void Apply(Span<float> pixels, int size, ref SeededRandom random)
    {
        var op = All[random.NextInt(All.Length)];
        var magnitude = random.NextDouble();
        var sign = random.Chance(0.5) ? -1 : 1;
        Apply(pixels, size, op, magnitude, sign);
    }

    /// <summary>Apply <paramref name="op"/> at <paramref name="magnitude"/> (0…1) with <paramref name="sign"/> (±1, for the signed operations).</summary>
    public static void Apply(Span<float> pixels, int size, Op op, double magnitude, int sign)
    {
        var signed = sign * magnitude;
        switch (op)
        {
            case Op.Identity: break;
            case Op.Brightness: ColorOps.Brightness(pixels, (float)(1 + 0.9 * signed)); break;
            case Op.Contrast: ColorOps.Contrast(pixels, (float)(1 + 0.9 * signed)); break;
            case Op.Color: ColorOps.Saturation(pixels, (float)(1 + 0.9 * signed)); break;
            case Op.Sharpness: ColorOps.Sharpness(pixels, size, (float)(1 + 0.9 * signed)); break;
            case Op.Posterize: ColorOps.Posterize(pixels, 8 - (int)Math.Round(4 * magnitude)); break;
            case Op.Solarize: ColorOps.Solarize(pixels, (float)(255 * (1 - magnitude))); break;
            case Op.AutoContrast: ColorOps.AutoContrast(pixels); break;
            case Op.Equalize: ColorOps.Equalize(pixels); break;
            case Op.Rotate: AffineWarp.Rotate(pixels, size, 30 * signed); break;
            case Op.ShearX: AffineWarp.ShearX(pixels, size, 0.3 * signed); break;
            case Op.ShearY: AffineWarp.ShearY(pixels, size, 0.3 * signed); break;
            case Op.TranslateX: AffineWarp.Translate(pixels, size, 150.0 / 331 * size * signed, 0); break;
            case Op.TranslateY: AffineWarp.Translate(pixels, size, 0, 150.0 / 331 * size * signed); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown operation.");
        }
    }
}
