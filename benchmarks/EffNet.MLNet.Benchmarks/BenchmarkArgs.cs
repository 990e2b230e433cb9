using System.Globalization;

namespace EffNet.MLNet.Benchmarks;

internal sealed record BenchmarkArgs(string Variant, int Batch, int Rounds)
{
    /// <summary>Images in the 400×300 and 2-megapixel sets of <c>featurize</c>, <c>strategy</c> (at least 600 for honest figures).</summary>
    public int Images { get; init; } = 600;

    /// <summary>Images in the camera-size set (12–24 MP): each is 4–9 MB on disk and seconds to make.</summary>
    public int CameraImages { get; init; } = 120;

    /// <summary>Which sets to run: <c>small</c>, <c>2mp</c>, <c>camera</c>.</summary>
    public IReadOnlyList<string> Sets { get; init; } = ["small", "2mp", "camera"];

    /// <summary>Rounds when <c>--rounds</c> was given, else <paramref name="fallback"/>.</summary>
    public int RoundsOr(int fallback) => RoundsGiven ? Rounds : fallback;

    private bool RoundsGiven { get; init; }

    /// <summary><c>fp32</c> or <c>int8</c> (the backbone's precision).</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>How long <c>serving-load</c> runs, when <c>--seconds</c> was given.</summary>
    public int? Seconds { get; init; }

    public static BenchmarkArgs Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2) map[args[i].TrimStart('-')] = args[i + 1];
        int Int(string key, string fallback) => int.Parse(map.GetValueOrDefault(key, fallback), CultureInfo.InvariantCulture);
        return new BenchmarkArgs(
            map.GetValueOrDefault("variant", "b0"),
            Int("batch", "8"),
            Int("rounds", "20"))
        {
            Images = Int("images", "600"),
            CameraImages = Int("camera-images", "120"),
            Sets = map.GetValueOrDefault("sets", "small,2mp,camera").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Precision = map.GetValueOrDefault("precision", "fp32"),
            RoundsGiven = map.ContainsKey("rounds"),
            Seconds = map.ContainsKey("seconds") ? Int("seconds", "60") : null,
        };
    }

    /// <summary>The featurizer options every contender of <c>featurize</c> shares: variant, seeded random weights, precision.</summary>
    public EfficientNetFeaturizerOptions FeaturizerOptions()
    {
        var options = new EfficientNetFeaturizerOptions { Variant = Variant, RandomInit = true };
        return Precision switch
        {
            "fp32" => options,
            // Every contender then runs the int8 graph, calibrated on 64 photo-like images as `effnet train` calibrates on a sample of its data.
            "int8" => options with { Precision = Onnx.Precision.Int8, CalibrationImages = SyntheticPhotos.Make(400, 300, 64) },
            _ => throw new ArgumentException($"--precision must be fp32 or int8, not '{Precision}'."),
        };
    }
}
