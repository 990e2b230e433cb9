using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class TrainCommand : Command<TrainCommand.Settings>
{
    internal sealed class Settings : BackboneSettings
    {
        [CommandOption("--data <DIR|MANIFEST>")]
        [Description("A folder with one sub-folder per label, or a CSV/TSV manifest of path,label.")]
        public string? Data { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("Where to save the model .zip; model.json and the report go beside it.")]
        [DefaultValue("model.zip")]
        public string Out { get; init; } = "model.zip";

        [CommandOption("--trainer <NAME>")]
        [Description("auto, sdca, lbfgs, lightgbm or fasttree. auto tries each and keeps the best validation macro-accuracy.")]
        [DefaultValue("auto")]
        public string Trainer { get; init; } = "auto";

        [CommandOption("--validation-fraction <F>")]
        [Description("Share of every label held out for validation.")]
        [DefaultValue(0.2)]
        public double ValidationFraction { get; init; } = 0.2;

        [CommandOption("--seed <N>")]
        [Description("Seed of the split and the trainers.")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--time-budget <SECONDS>")]
        [Description("With auto: try no further trainer once this many seconds are spent.")]
        public double? TimeBudget { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite --out (and its model.json) if they exist.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        [Description("Print only the final metrics line.")]
        [DefaultValue(false)]
        public bool Quiet { get; init; }

        [CommandOption("--json")]
        [Description("Print model.json's content to stdout instead of tables.")]
        [DefaultValue(false)]
        public bool Json { get; init; }

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            if (string.IsNullOrWhiteSpace(Data)) return ValidationResult.Error("--data DIR|MANIFEST is required.");
            if (!Directory.Exists(Data) && !File.Exists(Data)) return ValidationResult.Error($"--data '{Data}' is neither a folder nor a manifest file.");
            if (Trainer != "auto")
            {
                try { Trainers.Parse(Trainer); }
                catch (ArgumentException e) { return ValidationResult.Error(e.Message); }
            }
            if (ValidationFraction is <= 0 or >= 1) return ValidationResult.Error($"--validation-fraction must lie in (0, 1), not {ValidationFraction}.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(s.Out);
        var reportPath = ModelFiles.ReportPath(output);
        foreach (var existing in new[] { output, reportPath }.Where(File.Exists))
            if (!s.Force) throw new ArgumentException($"'{existing}' already exists; pass --force to overwrite it, or choose another --out.");
        var quiet = s.Quiet || s.Json;

        var images = ImageDataset.Load(s.Data!);
        var backbone = s.ResolveBackbone(quiet);
        var ml = new MLContext(s.Seed);
        var pathView = ml.Data.LoadFromEnumerable(Array.Empty<ImageInput>());
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: s.ToOptions()).Fit(pathView);

        var table = Featurize(ml, featurizer, images, quiet);
        var options = new TrainingOptions
        {
            Trainer = s.Trainer == "auto" ? null : Trainers.Parse(s.Trainer),
            ValidationFraction = s.ValidationFraction,
            Seed = s.Seed,
            TimeBudget = s.TimeBudget is { } t ? TimeSpan.FromSeconds(t) : null,
        };
        var result = quiet
            ? ImageClassifierTrainer.Train(ml, featurizer, table, options)
            : AnsiConsole.Status().Start("Training…", _ => ImageClassifierTrainer.Train(ml, featurizer, table, options));

        ModelFiles.SaveModel(ml, result.Model, output);
        var report = new ModelReport
        {
            Labels = result.Labels,
            Backbone = BackboneReport.From(backbone),
            Trainer = result.Trainer.ToString().ToLowerInvariant(),
            Settings = new TrainingSettingsReport(s.Trainer, s.ValidationFraction, s.Seed, s.TimeBudget,
                s.Weights is null ? null : Path.GetFullPath(s.Weights), s.RandomInit, s.InitSeed),
            Data = new DataReport(Path.GetFullPath(s.Data!), images.Count, result.TrainCount, result.ValidationCount,
                images.GroupBy(i => i.Label).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count())),
            Metrics = result.Validation,
            Leaderboard = result.Leaderboard.Select(e => new LeaderboardReport(e.Trainer.ToString().ToLowerInvariant(),
                e.Validation?.MicroAccuracy, e.Validation?.MacroAccuracy, e.Validation?.LogLoss, e.Duration.TotalSeconds, e.Skipped)).ToList(),
        };
        report.Save(reportPath);

        if (s.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, ModelReport.Json));
            return ExitCodes.Success;
        }
        var inv = CultureInfo.InvariantCulture;
        var m = result.Validation;
        if (s.Quiet)
        {
            Console.Out.WriteLine(string.Create(inv, $"{report.Trainer}: micro-accuracy {m.MicroAccuracy:0.000}, macro-accuracy {m.MacroAccuracy:0.000}, log-loss {m.LogLoss:0.000} on {m.Rows} validation images; saved {output}"));
            return ExitCodes.Success;
        }
        Reports.Leaderboard(result);
        Reports.Metrics(m);
        AnsiConsole.MarkupLine($"Saved [green]{Markup.Escape(output)}[/] and [green]{Markup.Escape(reportPath)}[/] (trainer {report.Trainer}, backbone {Markup.Escape(backbone.Identity)}).");

        // A few predictions by the saved model itself, as a user would make them.
        var loaded = ml.Model.Load(output, out _);
        var samples = images.GroupBy(i => i.Label).Select(g => g.Last()).Take(6).ToList();
        Reports.Predictions(PredictCommand.Predict(ml, loaded, result.Labels, samples.Select(i => i.ImagePath).ToList(), 1), samples);
        return ExitCodes.Success;
    }

    private static FeatureTable Featurize(MLContext ml, EfficientNetFeaturizerTransformer featurizer, IReadOnlyList<LabeledImage> images, bool quiet)
    {
        if (quiet || Console.IsErrorRedirected && Console.IsOutputRedirected)
            return ImageClassifierTrainer.Featurize(ml, featurizer, images);
        FeatureTable? table = null;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"Featurizing {images.Count} images", maxValue: images.Count);
                var watch = System.Diagnostics.Stopwatch.StartNew();
                table = ImageClassifierTrainer.Featurize(ml, featurizer, images, new SyncProgress(n => task.Value = n));
                task.Description = string.Create(CultureInfo.InvariantCulture, $"Featurized {images.Count} images ({images.Count / watch.Elapsed.TotalSeconds:0.0} images/s)");
            });
        return table!;
    }

    internal sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
