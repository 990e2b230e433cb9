using System.Globalization;

namespace EffNet.MLNet.Benchmarks;

internal sealed record BenchmarkArgs(string Variant, int Batch, int Rounds)
{
    private static readonly HashSet<string> Known = ["variant", "batch", "rounds", "images", "camera-images", "camera-dir", "sets", "precision", "allow-small", "seconds"];
    private static readonly HashSet<string> Flags = ["allow-small"];

    /// <summary>Images in the 400×300 and 2-megapixel sets of <c>featurize</c>, <c>strategy</c> (at least <see cref="Fairness.MinimumImages"/> where the stock chain runs).</summary>
    public int Images { get; init; } = 512;   // 4 blocks of 128 rows: both cores of 2 get two; 600 splits 344/256

    /// <summary>Images taken from <see cref="CameraDir"/> for the camera set; null: every JPEG in it.</summary>
    public int? CameraImages { get; init; }

    /// <summary>A folder of real camera JPEGs (benchmarks/camera-photos.sh makes one); the camera set is never generated.</summary>
    public string? CameraDir { get; init; }

    /// <summary>Run stock-chain sets smaller than <see cref="Fairness.MinimumImages"/>, every figure of them marked UNFAIR.</summary>
    public bool AllowSmall { get; init; }

    /// <summary>Which sets to run: <c>small</c>, <c>2mp</c>, <c>camera</c>.</summary>
    public IReadOnlyList<string> Sets { get; init; } = ["small", "2mp", "camera"];

    /// <summary>Rounds when <c>--rounds</c> was given, else <paramref name="fallback"/>.</summary>
    public int RoundsOr(int fallback) => RoundsGiven ? Rounds : fallback;

    private bool RoundsGiven { get; init; }

    /// <summary><c>fp32</c> or <c>int8</c> (the backbone's precision).</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>How long <c>serving-load</c> runs, when <c>--seconds</c> was given.</summary>
    public int? Seconds { get; init; }

    /// <summary>Options as <c>--name value</c> pairs, and flags (<c>--allow-small</c>) alone; anything else is an ArgumentException naming it.</summary>
    public static BenchmarkArgs Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected an option such as --images, not '{args[i]}'.");
            var key = args[i][2..];
            if (!Known.Contains(key)) throw new ArgumentException($"unknown option '--{key}' (known: {string.Join(", ", Known.Select(k => "--" + k))}).");
            if (Flags.Contains(key)) { map[key] = "true"; continue; }
            if (i + 1 >= args.Length) throw new ArgumentException($"--{key} needs a value.");
            map[key] = args[++i];
        }
        int Int(string key, string fallback)
        {
            var text = map.GetValueOrDefault(key, fallback);
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw new ArgumentException($"--{key} takes a positive whole number, not '{text}'.");
        }
        var precision = map.GetValueOrDefault("precision", "fp32");
        if (precision is not ("fp32" or "int8")) throw new ArgumentException($"--precision must be fp32 or int8, not '{precision}'.");
        return new BenchmarkArgs(
            map.GetValueOrDefault("variant", "b0"),
            Int("batch", "8"),
            Int("rounds", "20"))
        {
            Images = Int("images", "512"),
            CameraImages = map.ContainsKey("camera-images") ? Int("camera-images", "") : null,
            CameraDir = map.GetValueOrDefault("camera-dir"),
            AllowSmall = map.ContainsKey("allow-small"),
            Sets = map.GetValueOrDefault("sets", "small,2mp,camera").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Precision = precision,
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
            // A target every int8 graph meets: the benchmark times the int8 graph itself, never the int8 check's fp32 fall-back.
            "int8" => options with
            {
                Precision = Onnx.Precision.Int8, CalibrationImages = SyntheticPhotos.Make(400, 300, 64),
                Int8Target = new Int8Target { MedianCosine = 0.01, FifthPercentileCosine = 0.01, MaxFloatLayers = 0 },
            },
            _ => throw new ArgumentException($"--precision must be fp32 or int8, not '{Precision}'."),
        };
    }
}
