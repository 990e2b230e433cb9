using EffNet.MLNet.Onnx;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>The <c>--precision</c> and <c>--calibration</c> values and what they mean.</summary>
internal static class PrecisionOption
{
    public const string Description =
        "fp32 (default) or int8: int8 convolutions from the fourth stage on, activation ranges calibrated on --calibration " +
        "(default: a seeded sample of 64 of the --data images). Faster on CPUs with VNNI; features close to, not equal to, fp32's.";

    public const string CalibrationDescription =
        "With --precision int8: a folder of images like those you will featurize, to calibrate the int8 activation ranges on (a seeded sample of 64 is used).";

    private static readonly OptionWords<Precision> Words = new("--precision", "fp32 or int8", ("fp32", Precision.Float32), ("int8", Precision.Int8));

    public static string? Problem(string value, string? calibration, bool calibrationRequired = false)
    {
        if (Words.Problem(value) is { } problem) return problem;
        var precision = Words.Parse(value);
        if (calibration is not null && precision != Precision.Int8) return "--calibration applies only with --precision int8.";
        if (calibration is not null && !Directory.Exists(calibration)) return $"--calibration '{calibration}' is not a folder.";
        if (calibrationRequired && precision == Precision.Int8 && calibration is null)
            return "--precision int8 needs --calibration DIR: a folder of images like those the model will see.";
        return null;
    }

    public static Precision Parse(string value) => Words.Parse(value);

    public const string TargetDescription =
        "With --precision int8: least median and 5th-percentile cosine of int8 against fp32 features on the calibration images held out " +
        "from calibration (a seeded quarter); missed, the costliest blocks are kept in float, then fp32 is used with a warning. Default: 0.99,0.95.";

    public const string MaxFloatDescription = "With --precision int8: blocks that may be kept in float to meet --int8-target before falling back to fp32. Default: 3.";

    /// <summary>What is wrong with --int8-target and --int8-max-float, or null.</summary>
    public static string? TargetProblem(string? target, int? maxFloat, bool int8)
    {
        if ((target is not null || maxFloat is not null) && !int8) return "--int8-target and --int8-max-float apply only with --precision int8.";
        if (maxFloat is < 0 or > 1000) return $"--int8-max-float must lie in [0, 1000], not {maxFloat}.";
        if (target is not null && ParseTarget(target) is null)
            return $"--int8-target must be MEDIAN,P5: two cosines in (0, 1] such as 0.99,0.95, not '{InertText.Line(target)}'.";
        return null;
    }

    /// <summary>The target the options name; null when neither is given (the library's default).</summary>
    public static EffNet.MLNet.Int8Target? Target(string? target, int? maxFloat)
    {
        if (target is null && maxFloat is null) return null;
        var parsed = target is null ? new EffNet.MLNet.Int8Target() : ParseTarget(target)!;
        return maxFloat is { } m ? parsed with { MaxFloatLayers = m } : parsed;
    }

    private static EffNet.MLNet.Int8Target? ParseTarget(string value)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2) return null;
        var numbers = parts.Select(p => double.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v is > 0 and <= 1 ? v : (double?)null).ToList();
        return numbers.Any(n => n is null) ? null : new EffNet.MLNet.Int8Target { MedianCosine = numbers[0]!.Value, FifthPercentileCosine = numbers[1]!.Value };
    }

    /// <summary>One line with what the int8 check measured, or its fall-back warning.</summary>
    public static string Describe(Int8Fidelity f) => f.Warning ?? string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"int8 check: median cosine {f.MedianCosine:0.0000}, 5th percentile {f.FifthPercentileCosine:0.0000}, worst {f.WorstCosine:0.0000} against fp32 on {f.HeldOutImages.Count} held-out images " +
        $"(target {f.TargetMedianCosine:0.###} / {f.TargetFifthPercentileCosine:0.###}); {f.FloatLayers.Count} blocks kept in float{(f.FloatLayers.Count > 0 ? " (" + string.Join(", ", f.FloatLayers) + ")" : "")}.");

    /// <summary>Print the int8 check: its figures on stdout unless quiet, a fall-back warning always on stderr.</summary>
    public static void Print(Int8Fidelity? fidelity, bool quiet)
    {
        if (fidelity is null) return;
        if (fidelity.Warning is { } warning) Console.Error.WriteLine("warning: " + InertText.Line(warning));
        else if (!quiet) Console.Out.WriteLine(Describe(fidelity));
    }

    /// <summary>A seeded sample of the images under <paramref name="folder"/> (sub-folders included).</summary>
    public static IReadOnlyList<string> Images(string folder)
    {
        var images = Training.ImageDataset.Load(folder, requireLabels: false).Select(i => i.ImagePath).ToList();
        if (images.Count == 0) throw new ArgumentException($"--calibration '{folder}' holds no images.");
        return CalibrationSample.Pick(images);
    }
}
