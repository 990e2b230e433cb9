using System.Globalization;
using System.Text.Json;

namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>What <c>model.json</c> records beside a multi-label <c>model.zip</c> (<c>task: "multi-label"</c>).</summary>
public sealed record MultiLabelReport
{
    /// <summary>The value of <see cref="Task"/>.</summary>
    public const string TaskName = "multi-label";

    /// <summary>Format version of this file.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>Always <c>multi-label</c>: tells this file from a single-label <see cref="ModelReport"/>.</summary>
    public string Task { get; init; } = TaskName;

    /// <summary>Labels in the order of the model's <c>Probability</c> vector.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>Per label (same order): positive at or over this probability; the best F1 on the validation split (<see cref="ThresholdRule"/>).</summary>
    public required IReadOnlyList<float> Thresholds { get; init; }

    /// <summary>The backbone.</summary>
    public required BackboneReport Backbone { get; init; }

    /// <summary>The binary trainer used for every label, e.g. <c>lbfgs</c>.</summary>
    public required string Trainer { get; init; }

    /// <summary>Settings the model was trained with; <c>effnet retrain</c> reuses them.</summary>
    public required TrainingSettingsReport Settings { get; init; }

    /// <summary>The dataset; <c>imagesPerLabel</c> counts the images carrying each label.</summary>
    public required DataReport Data { get; init; }

    /// <summary>Validation metrics at the thresholds, of the classifiers fitted without the validation images.</summary>
    public required MultiLabelMetrics Metrics { get; init; }

    /// <summary>Every trainer tried, with its validation macro-F1 and mean average precision.</summary>
    public IReadOnlyList<MultiLabelLeaderboardReport> Leaderboard { get; init; } = [];

    /// <summary>Per weighted label, the weight of its positive and of its negative images.</summary>
    public IReadOnlyDictionary<string, double[]>? LabelWeights { get; init; }

    /// <summary>Whether the report at <paramref name="path"/> is a multi-label one (its <c>task</c> says so).</summary>
    public static bool IsMultiLabel(string path)
    {
        if (!File.Exists(path)) return false;
        ModelReportCheck.CheckFile(path);
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("task", out var task)
                && task.ValueKind == JsonValueKind.String && task.GetString() == TaskName;
        }
        catch (JsonException) { return false; }
    }

    /// <summary>Read a report, checking every field a command acts on.</summary>
    /// <exception cref="InvalidDataException">The file is too large, not JSON, or a field is missing or out of range; the message names the file.</exception>
    public static MultiLabelReport Load(string path)
    {
        ModelReportCheck.CheckFile(path);
        MultiLabelReport? report;
        try { report = JsonSerializer.Deserialize<MultiLabelReport>(File.ReadAllText(path), ModelReport.Json); }
        catch (JsonException ex) { throw new InvalidDataException($"'{path}' is not a multi-label model report: {InertText.Line(ex.Message)}", ex); }
        if (report is null || report.Thresholds is null || report.Labels is null)
            throw new InvalidDataException($"'{path}' lacks labels or thresholds; the file was edited or is not from effnet train.");
        ModelReportCheck.CheckShared(path, report.Labels, report.Backbone, report.Settings);
        if (report.Thresholds.Count != report.Labels.Count || report.Thresholds.Any(t => !(t is >= 0 and <= 1)))
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{path}': thresholds must be one number in [0, 1] per label ({report.Labels.Count}); the file was edited or is not from effnet train."));
        return report;
    }

    /// <summary>Write the report as indented JSON, through a temporary file.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, ModelReport.Json));
}

/// <summary>One trainer of a multi-label leaderboard.</summary>
public sealed record MultiLabelLeaderboardReport(string Trainer, double MacroF1, double MeanAveragePrecision, double Seconds);
