using System.ComponentModel;
using System.Text.Json;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class EvaluateCommand : Command<EvaluateCommand.Settings>
{
    internal sealed class Settings : DatasetSettings
    {
        [CommandOption("--model <FILE>")]
        [Description("A model .zip made by effnet train (its model.json beside it names the labels).")]
        [DefaultValue("model.zip")]
        public string Model { get; init; } = "model.zip";

        [CommandOption("--data <DIR|MANIFEST>")]
        [Description("Labelled images: a folder with one sub-folder per label, or a CSV/TSV manifest of path,label.")]
        public string? Data { get; init; }

        [CommandOption("--json")]
        [Description("Print the metrics as JSON (the shape of model.json's metrics).")]
        [DefaultValue(false)]
        public bool Json { get; init; }

        public override ValidationResult Validate()
        {
            var data = DataSource.Validate(Data);
            return data.Successful ? base.Validate() : data;
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var ml = new MLContext(0);
        var modelPath = Path.GetFullPath(s.Model);
        if (MultiLabel.MultiLabelCommands.IsMultiLabel(ModelFiles.Existing(modelPath)))
            return MultiLabel.MultiLabelCommands.Evaluate(modelPath, s.Data!, s.FailOnBadImage, s.AcceptTruncated, s.Json);
        var model = SavedModel.Load(ml, ModelFiles.Existing(modelPath));
        var report = ModelFiles.LoadReport(modelPath);
        // The saved model decodes with ML.NET, which fails on a bad image without naming it and fills
        // truncated ones silently: every image is checked (decoded once) before it gets there.
        var (images, bad, truncated) = BadImages.Screen(BadImages.LoadDataset(s.Data!), i => i.ImagePath, s.FailOnBadImage, s.AcceptTruncated);
        BadImages.Print(bad);
        BadImages.WarnTruncated(truncated);
        if (images.Count == 0) throw new InvalidDataException($"None of the images under '{s.Data}' can be used.");
        var metrics = ModelEvaluator.Evaluate(ml, model, report.Labels, images);
        if (s.Json)
            Console.Out.WriteLine(JsonSerializer.Serialize(metrics, ModelReport.Json));
        else
            Reports.Metrics(metrics);
        return ExitCodes.Success;
    }
}
