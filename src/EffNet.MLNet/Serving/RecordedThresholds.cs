using System.Text.Json;
using EffNet.MLNet.Training.MultiLabel;

namespace EffNet.MLNet;

/// <summary>
/// The labels and per-label thresholds of a multi-label model, from the <c>model.json</c> beside its <c>.zip</c>
/// (<c>task: "multi-label"</c>): its output is a probability per label, and a label is predicted at or over its
/// threshold, as <c>effnet predict</c> judges it.
/// </summary>
internal sealed record RecordedThresholds(IReadOnlyList<string> Labels, IReadOnlyList<float> Thresholds)
{
    /// <summary>The model's labels and thresholds when its report says it is multi-label; null for a single-label model or none.</summary>
    /// <exception cref="InvalidDataException">The report says multi-label but its labels or thresholds are missing or out of range.</exception>
    public static RecordedThresholds? Read(string modelPath)
    {
        var path = RecordedPreprocessing.ReportPath(modelPath);
        if (!MultiLabelReport.IsMultiLabel(path)) return null;
        try
        {
            var report = MultiLabelReport.Load(path);
            return new RecordedThresholds(report.Labels, report.Thresholds);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException or IOException)
        {
            throw new InvalidDataException($"'{path}' (the model's report) cannot be read for its labels and thresholds: {ex.Message}", ex);
        }
    }
}
