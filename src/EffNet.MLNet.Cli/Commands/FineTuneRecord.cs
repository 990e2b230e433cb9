using System.Text.Json;
using System.Text.Json.Nodes;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>
/// The <c>fineTuning</c> object of model.json (settings and per-epoch history of <c>train --fine-tune</c>):
/// not a field of <see cref="ModelReport"/> (the library knows nothing of fine-tuning), so retrain,
/// which rebuilds the report, carries it over from the old model.json by hand.
/// </summary>
internal static class FineTuneRecord
{
    public const string Property = "fineTuning";

    /// <summary>The record in the model.json at <paramref name="reportPath"/>, or null when the model was not fine-tuned.</summary>
    public static JsonNode? Read(string reportPath) =>
        JsonNode.Parse(File.ReadAllText(reportPath)) is JsonObject report && report[Property] is { } record ? record.DeepClone() : null;

    /// <summary>The report as model.json holds it, with <paramref name="record"/> (if any) after its own fields.</summary>
    public static string ToJson(ModelReport report, JsonNode? record)
    {
        if (record is null) return JsonSerializer.Serialize(report, ModelReport.Json);
        var node = JsonSerializer.SerializeToNode(report, ModelReport.Json)!.AsObject();
        node[Property] = record.DeepClone();
        return node.ToJsonString(ModelReport.Json);
    }
}
