using System.Text.Json;
using EffNet.MLNet.Training;
using EffNet.MLNet.Training.MultiLabel;
using Microsoft.ML;
using Microsoft.ML.Data;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Commands.MultiLabel;

/// <summary>predict and evaluate for a model whose model.json says <c>task: "multi-label"</c>.</summary>
internal static class MultiLabelCommands
{
    /// <summary>A label's probability and the threshold it is judged against.</summary>
    internal sealed record LabelProbability(string Label, float Probability, float Threshold);

    /// <summary>One image: the labels at or over their thresholds, every probability, or why it was skipped.</summary>
    internal sealed record ImageLabels(string Image, IReadOnlyList<string> Labels, IReadOnlyList<LabelProbability> Probabilities, string? Error = null);

    /// <summary>Whether the model at <paramref name="modelPath"/> is multi-label (its model.json says so).</summary>
    public static bool IsMultiLabel(string modelPath) => MultiLabelReport.IsMultiLabel(ModelFiles.ReportPath(modelPath));

    public static MultiLabelReport LoadReport(string modelPath) => MultiLabelReport.Load(ModelFiles.ReportPath(modelPath));

    /// <summary>The model, refused unless its <c>Probability</c> slots are model.json's labels in model.json's order (<see cref="MultiLabelSlots"/>).</summary>
    /// <exception cref="InvalidDataException">The slots and the labels differ.</exception>
    public static ITransformer LoadModel(MLContext ml, string modelPath, MultiLabelReport report)
    {
        DataViewSchema? input;
        ITransformer model;
        using (var stream = File.OpenRead(modelPath)) (model, input) = SavedModel.LoadWithSchema(ml, stream, modelPath);
        var column = model.GetOutputSchema(input ?? ImageClassifierTrainer.InputSchema(ml)).GetColumnOrNull(MultiLabelTrainer.ProbabilityColumn);
        var slots = new List<string>();
        if (column is { } c && c.HasSlotNames())
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            c.GetSlotNames(ref names);
            slots.AddRange(names.DenseValues().Select(n => n.ToString()));
        }
        MultiLabelSlots.RequireReportLabels(slots, report.Labels, ModelFiles.ReportPath(modelPath), modelPath);
        return model;
    }

    public static int Predict(string modelPath, IReadOnlyList<string> images, bool failOnBadImage, bool acceptTruncated, bool json)
    {
        var report = LoadReport(modelPath);
        var ml = new MLContext(0);
        var model = LoadModel(ml, modelPath, report);
        // The saved model decodes with ML.NET, which fails on a bad image without naming it: each is checked first.
        var (good, bad, truncated) = BadImages.Screen(images, p => p, failOnBadImage, acceptTruncated);
        BadImages.Print(bad);
        BadImages.WarnTruncated(truncated);
        var probabilities = good.Count == 0 ? [] : MultiLabelEvaluator.Probabilities(ml, model, good);
        var byImage = good.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => probabilities[x.i]);
        var reasons = bad.ToDictionary(b => b.ImagePath, b => b.Reason);
        var results = images.Select(image =>
        {
            if (reasons.TryGetValue(image, out var reason)) return new ImageLabels(image, [], [], $"'{image}' {reason}.");
            var p = byImage[image];
            var all = report.Labels.Select((l, j) => new LabelProbability(l, p[j], report.Thresholds[j])).ToList();
            return new ImageLabels(image, all.Where(x => x.Probability >= x.Threshold).OrderByDescending(x => x.Probability).Select(x => x.Label).ToList(), all);
        }).ToList();
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(results, ModelReport.Json));
            return ExitCodes.Success;
        }
        foreach (var r in results)
        {
            if (r.Error is not null) continue;
            var shown = r.Probabilities.Where(x => x.Probability >= x.Threshold).OrderByDescending(x => x.Probability)
                .Select(x => $"{Inert.Name(x.Label)} [grey]({x.Probability.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)})[/]").ToList();
            AnsiConsole.MarkupLine($"{Inert.Name(r.Image)}: {(shown.Count == 0 ? "[grey](no label over its threshold)[/]" : string.Join(", ", shown))}");
        }
        return ExitCodes.Success;
    }

    public static int Evaluate(string modelPath, string data, bool failOnBadImage, bool acceptTruncated, bool json)
    {
        var report = LoadReport(modelPath);
        var ml = new MLContext(0);
        var model = LoadModel(ml, modelPath, report);
        var (images, bad, truncated) = BadImages.Screen(MultiLabelManifest.Load(data), i => i.ImagePath, failOnBadImage, acceptTruncated);
        BadImages.Print(bad);
        BadImages.WarnTruncated(truncated);
        if (images.Count == 0) throw new InvalidDataException($"None of the images of '{data}' can be used.");
        var metrics = MultiLabelEvaluator.Evaluate(ml, model, report.Labels, report.Thresholds, images);
        if (json)
            Console.Out.WriteLine(JsonSerializer.Serialize(metrics, ModelReport.Json));
        else
            MultiLabelTables.Metrics(metrics);
        return ExitCodes.Success;
    }
}
