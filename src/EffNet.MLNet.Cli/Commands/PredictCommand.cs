using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class PredictCommand : Command<PredictCommand.Settings>
{
    internal sealed class Settings : DatasetSettings
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
            Top < 1 ? ValidationResult.Error("--top must be at least 1.") : base.Validate();
    }

    internal sealed record LabelScore(string Label, float Score);

    /// <summary>One image's prediction, or (<paramref name="Error"/> set, no label) why it was skipped.</summary>
    internal sealed record ImageResult(string Image, string Label, IReadOnlyList<LabelScore> Scores, string? Error = null);

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var modelPath = Path.GetFullPath(s.Model);
        if (MultiLabel.MultiLabelCommands.IsMultiLabel(ModelFiles.Existing(modelPath)))
            return MultiLabel.MultiLabelCommands.Predict(modelPath, Expand(s.Inputs), s.FailOnBadImage, s.AcceptTruncated, s.Json);
        using var predictor = new PooledPredictor(ModelFiles.Existing(modelPath), new PooledPredictorOptions { AcceptTruncatedImages = s.AcceptTruncated, MaxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes });
        var images = Expand(s.Inputs);
        // Each image is checked first, so that one bad file among many is named and the others still get their predictions.
        var (good, bad, truncated) = BadImages.Screen(images, p => p, s.FailOnBadImage, s.AcceptTruncated);
        BadImages.Print(bad);
        BadImages.WarnTruncated(truncated);
        var predicted = Predict(predictor, Labels(predictor, modelPath), good, s.Top, s.FailOnBadImage);
        var reasons = bad.ToDictionary(b => b.ImagePath, b => b.Reason);
        var next = 0;
        var predictions = images.Select(p => reasons.TryGetValue(p, out var reason)
            ? new ImageResult(p, "", [], $"'{p}' {reason}.")
            : predicted[next++]).ToList();
        if (s.Json)
            Console.Out.WriteLine(JsonSerializer.Serialize(predictions, ModelReport.Json));
        else
            Reports.Predictions(predictions, null);
        return ExitCodes.Success;
    }

    /// <summary>Predictions of <paramref name="images"/>; one the model cannot read stops the run (<paramref name="fail"/>) or gets an error entry.</summary>
    public static IReadOnlyList<ImageResult> Predict(PooledPredictor predictor, IReadOnlyList<string> labels, IReadOnlyList<string> images, int top, bool fail = true) =>
        images.Select(path =>
        {
            ImagePrediction p;
            try { p = predictor.Predict(path); }
            catch (Imaging.BadImageException ex) when (!fail)
            {
                BadImages.Print([ex.ToBadImage()]);
                return new ImageResult(path, "", [], ex.Message);
            }
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
        var images = BadImages.ImagesIn(inputs);
        if (images.Count == 0) throw new ArgumentException("No images to predict.");
        return images;
    }
}
