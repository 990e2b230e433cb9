using System.Text.Json;
using System.Text.Json.Serialization;

namespace EffNet.MLNet.Training;

/// <summary>What <c>model.json</c> records beside a trained <c>model.zip</c>.</summary>
public sealed record ModelReport
{
    /// <summary>Format version of this file.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>Class names in the order of the model's <c>Score</c> vector.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>The backbone: variant, weights hash, preprocessing, pooling.</summary>
    public required BackboneReport Backbone { get; init; }

    /// <summary>The chosen trainer, e.g. <c>sdca</c>.</summary>
    public required string Trainer { get; init; }

    /// <summary>Settings the model was trained with; <c>effnet retrain</c> reuses them.</summary>
    public required TrainingSettingsReport Settings { get; init; }

    /// <summary>The dataset.</summary>
    public required DataReport Data { get; init; }

    /// <summary>Validation metrics of the chosen trainer, fitted without the validation images: the honest estimate.</summary>
    public required ClassificationMetrics Metrics { get; init; }

    /// <summary>
    /// The saved model (refitted on all images, validation ones included) on the validation
    /// images: what <c>effnet evaluate</c> on those images reproduces.
    /// </summary>
    public required ClassificationMetrics SavedModelOnValidation { get; init; }

    /// <summary>Every trainer tried, with its validation metrics.</summary>
    public required IReadOnlyList<LeaderboardReport> Leaderboard { get; init; }

    /// <summary>The weight each label's images had in training (absent when training was unweighted).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? ClassWeights { get; init; }

    /// <summary>With <see cref="ClassWeights"/>: the chosen trainer fitted without them on the same split, to compare per-class recall.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ClassificationMetrics? UnweightedMetrics { get; init; }

    /// <summary>The variant sweep that chose the backbone (<c>effnet train --variant auto</c>); absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Sweep.SweepResult? Sweep { get; init; }

    /// <summary>Serializer options used for this file and for <c>--json</c> output.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Read a report, checking every field a command acts on.</summary>
    /// <exception cref="InvalidDataException">The file is too large, or a field is missing or out of range; the message names the file and the field.</exception>
    public static ModelReport Load(string path)
    {
        ModelReportCheck.CheckFile(path);
        return ModelReportCheck.Check(path, JsonSerializer.Deserialize<ModelReport>(File.ReadAllText(path), Json));
    }

    /// <summary>Write the report as indented JSON, through a temporary file (readers never see half of it).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}

/// <summary>
/// Backbone identity. <c>Preprocessing</c> is how the training images were resized: <c>fast</c> or
/// <c>torchvision</c> (absent in older reports: fast), with the weights' <c>Interpolation</c>. <c>SavedModelPreprocessing</c> says what the
/// <c>.zip</c>'s own chain does, which a stock ML.NET consumer runs.
/// </summary>
public sealed record BackboneReport(string Variant, string WeightsSha256, int ResizeSize, int CropSize, string Pooling, bool L2Normalize, int FeatureDimension, string Identity,
    string Preprocessing = "fast", string? Interpolation = null, string? SavedModelPreprocessing = null)
{
    /// <summary><c>fp32</c> or <c>int8</c> (absent in older reports: fp32).</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>For int8: how it was calibrated (method, quantizer version, image count, content hash) and on which images.</summary>
    public CalibrationReport? Calibration { get; init; }

    /// <summary>With <c>--precision int8</c>: int8 against fp32 on held-out calibration images, blocks kept in float, or the fall-back to fp32.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Int8Fidelity? Int8Check { get; init; }

    /// <summary>What the saved chain does in torchvision mode, where it cannot do what training did.</summary>
    public const string StockChainInTorchvisionMode =
        "stock ML.NET ResizeImages (cubic, IsoCrop) from a full decode, not torchvision's antialiased bicubic: a stock ML.NET consumer of the .zip " +
        "gets features close to, not equal to, the training ones; PooledPredictor and effnet predict read this file and apply torchvision's transform exactly";

    /// <summary>From a resolved backbone.</summary>
    public static BackboneReport From(EfficientNetBackbone b) =>
        new(b.Variant, b.WeightsSha256, b.ResizeSize, b.Resolution, b.Pooling, b.L2Normalize, b.FeatureDimension, b.Identity,
            Exact(b) ? "torchvision" : "fast", Exact(b) ? b.Interpolation : null, Exact(b) ? StockChainInTorchvisionMode : null)
        {
            Precision = b.Precision == Onnx.Precision.Int8 ? "int8" : "fp32",
            Calibration = b.Calibration is { } c ? new CalibrationReport(c, b.CalibrationImages) : null,
            Int8Check = b.Int8Fidelity,
        };

    private static bool Exact(EfficientNetBackbone b) => b.Preprocessing == global::EffNet.MLNet.Preprocessing.TorchvisionExact;
}

/// <summary>An int8 backbone's calibration: <c>effnet retrain</c> calibrates on the same images again.</summary>
public sealed record CalibrationReport(string Method, IReadOnlyList<string> Images);

/// <summary>Training settings (<c>WeightsFamily</c>: torchvision, timm or timm-tf as resolved at training; absent in older reports).</summary>
public sealed record TrainingSettingsReport(string TrainerOption, double ValidationFraction, int Seed, double? TimeBudgetSeconds, string? WeightsPath, bool RandomInit, int RandomSeed, string Variant,
    string? WeightsFamily = null)
{
    /// <summary><c>--class-weights</c>: <c>auto</c>, <c>none</c> or the weights file's full path (absent in older reports: auto).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClassWeights { get; init; }
}

/// <summary>Dataset summary.</summary>
public sealed record DataReport(string Source, int Images, int TrainImages, int ValidationImages, IReadOnlyDictionary<string, int> ImagesPerLabel,
    IReadOnlyList<string> ValidationImagePaths, int FeaturizedImages, int CachedImages, int SkippedImages);

/// <summary>One trainer of the leaderboard.</summary>
public sealed record LeaderboardReport(string Trainer, double? MicroAccuracy, double? MacroAccuracy, double? LogLoss, double Seconds, string? Skipped);
