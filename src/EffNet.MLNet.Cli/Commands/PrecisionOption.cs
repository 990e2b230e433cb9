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

    /// <summary>A seeded sample of the images under <paramref name="folder"/> (sub-folders included).</summary>
    public static IReadOnlyList<string> Images(string folder)
    {
        var images = Training.ImageDataset.Load(folder, requireLabels: false).Select(i => i.ImagePath).ToList();
        if (images.Count == 0) throw new ArgumentException($"--calibration '{folder}' holds no images.");
        return CalibrationSample.Pick(images);
    }
}
