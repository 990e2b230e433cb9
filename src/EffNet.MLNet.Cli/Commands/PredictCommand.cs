using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class PredictCommand : Command<PredictCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<IMAGE|DIR>")]
        [Description("Images, or folders searched recursively for images.")]
        public string[] Inputs { get; init; } = [];

        [CommandOption("--model <FILE>")]
        [Description("A model .zip made by effnet train.")]
        [DefaultValue("model.zip")]
        public string Model { get; init; } = "model.zip";

        [CommandOption("--top <K>")]
        [Description("How many of the highest-scoring labels to show per image.")]
        [DefaultValue(3)]
        public int Top { get; init; } = 3;

        [CommandOption("--json")]
        [Description("Print a JSON array of {image, label, scores: [[{label, score}]]}.")]
        [DefaultValue(false)]
        public bool Json { get; init; }

        public override ValidationResult Validate() =>
            Top < 1 ? ValidationResult.Error("--top must be at least 1.") : ValidationResult.Success();
    }

    internal sealed record LabelScore(string Label, float Score);

    internal sealed record ImageResult(string Image, string Label, IReadOnlyList<LabelScore> Scores);

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var modelPath = Path.GetFullPath(s.Model);
        using var predictor = new PooledPredictor(ModelFiles.Existing(modelPath));
        var predictions = Predict(predictor, Labels(predictor, modelPath), Expand(s.Inputs), s.Top);
        if (s.Json)
            Console.Out.WriteLine(JsonSerializer.Serialize(predictions, ModelReport.Json));
        else
            Reports.Predictions(predictions, null);
        return ExitCodes.Success;
    }

    public static IReadOnlyList<ImageResult> Predict(PooledPredictor predictor, IReadOnlyList<string> labels, IReadOnlyList<string> images, int top) =>
        images.Select(path =>
        {
            var p = predictor.Predict(path);
            var scores = p.Score.Select((score, i) => new LabelScore(i < labels.Count ? labels[i] : i.ToString(CultureInfo.InvariantCulture), score))
                .OrderByDescending(x => x.Score).Take(top).ToList();
            return new ImageResult(path, p.PredictedLabel, scores);
        }).ToList();

    /// <summary>Class names in Score order: from model.json beside the model, else from the model's own slot names.</summary>
    private static IReadOnlyList<string> Labels(PooledPredictor predictor, string modelPath)
    {
        var report = ModelFiles.ReportPath(modelPath);
        return File.Exists(report) ? ModelReport.Load(report).Labels : predictor.Labels;
    }

    private static List<string> Expand(IEnumerable<string> inputs)
    {
        var images = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
                images.AddRange(Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                    .Where(f => ImageDataset.ImageExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).Select(Path.GetFullPath));
            else if (File.Exists(input))
                images.Add(Path.GetFullPath(input));
            else
                throw new ArgumentException($"'{input}' is neither an image file nor a folder.");
        }
        if (images.Count == 0) throw new ArgumentException("No images to predict.");
        return images;
    }
}
