using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
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

    internal sealed record ImagePrediction(string Image, string Label, IReadOnlyList<LabelScore> Scores);

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var ml = new MLContext(0);
        var modelPath = Path.GetFullPath(s.Model);
        var model = ModelFiles.Load(ml, modelPath);
        var labels = Labels(ml, model, modelPath);
        var images = Expand(s.Inputs);
        var predictions = Predict(ml, model, labels, images, s.Top);
        if (s.Json)
            Console.Out.WriteLine(JsonSerializer.Serialize(predictions, ModelReport.Json));
        else
            Reports.Predictions(predictions, null);
        return ExitCodes.Success;
    }

    public static IReadOnlyList<ImagePrediction> Predict(MLContext ml, ITransformer model, IReadOnlyList<string> labels, IReadOnlyList<string> images, int top)
    {
        var engine = ml.Model.CreatePredictionEngine<TrainCommand.ImageInput, Output>(model);
        return images.Select(path =>
        {
            var p = engine.Predict(new TrainCommand.ImageInput { ImagePath = path });
            var scores = p.Score.Select((score, i) => new LabelScore(i < labels.Count ? labels[i] : i.ToString(CultureInfo.InvariantCulture), score))
                .OrderByDescending(x => x.Score).Take(top).ToList();
            return new ImagePrediction(path, p.PredictedLabel, scores);
        }).ToList();
    }

    /// <summary>Class names in Score order: from model.json beside the model, else from the Score column's slot names.</summary>
    private static IReadOnlyList<string> Labels(MLContext ml, ITransformer model, string modelPath)
    {
        var report = ModelFiles.ReportPath(modelPath);
        if (File.Exists(report)) return ModelReport.Load(report).Labels;
        var schema = model.GetOutputSchema(ImageClassifierTrainer.InputSchema(ml));
        VBuffer<ReadOnlyMemory<char>> names = default;
        if (schema.GetColumnOrNull("Score") is { } score && score.HasSlotNames())
        {
            score.GetSlotNames(ref names);
            return names.DenseValues().Select(n => n.ToString()).ToList();
        }
        return [];
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

    internal sealed class Output
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }
}
