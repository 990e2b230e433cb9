using System.Globalization;
using EffNet.MLNet.Cli.Commands;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Shards;

/// <summary>
/// <c>effnet train --features DIR|FILE</c>: train the head on features computed elsewhere (the shards of a
/// distributed featurization, or their merge) and save the usual model.zip and model.json. No image is
/// decoded: the backbone is only built, to be embedded in the model and to prove that it is the one the
/// features came from.
/// </summary>
internal static class FeaturesTrainingRun
{
    public static int Execute(TrainCommand.Settings s, string output, CancellationToken cancellationToken)
    {
        var quiet = s.Quiet || s.Json;
        var set = ShardSet.Load(s.Features!);
        var backbone = s.ResolveBackbone(quiet);
        var ml = new MLContext(s.Seed);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: s.ToOptions())
            .Fit(ml.Data.LoadFromEnumerable(Array.Empty<TrainCommand.ImageInput>()));
        if (featurizer.FeatureIdentity != set.Info.Identity)
            throw new InvalidDataException($"The features in '{s.Features}' were computed by {set.Info.Identity}, but this run's backbone is {featurizer.FeatureIdentity}; pass the --variant, --weights/--random-init, --preprocess and --precision the shards were featurized with.");
        if (set.Rows.FirstOrDefault(r => r.Label.Length == 0) is { } unlabelled)
            throw new InvalidDataException($"'{InertText.Line(unlabelled.Path)}' in '{s.Features}' has no label; training needs every row labelled (images in label sub-folders, or a manifest of path,label).");

        var table = new FeatureTable([.. set.Rows.Select(r => new LabeledImage(r.Path, r.Label))], [.. set.Rows.Select(r => r.Vector)], set.Info.Dimension);
        var options = new TrainingOptions
        {
            Trainer = s.Trainer == "auto" ? null : Trainers.Parse(s.Trainer),
            ValidationFraction = s.ValidationFraction,
            Seed = s.Seed,
            TimeBudget = s.TimeBudget is { } t ? TimeSpan.FromSeconds(t) : null,
        };
        var result = ImageClassifierTrainer.TrainCore(ml, featurizer, table, options, decodeValidationImages: false, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();

        ModelFiles.SaveModel(ml, result.Model, output);
        var images = table.Images;
        var report = new ModelReport
        {
            Labels = result.Labels,
            Backbone = BackboneReport.From(backbone),
            Trainer = result.Trainer.ToString().ToLowerInvariant(),
            Settings = new TrainingSettingsReport(s.Trainer, s.ValidationFraction, s.Seed, s.TimeBudget,
                s.ToOptions().WeightsPath, s.RandomInit, s.InitSeed, s.Variant, Weights.CheckpointFamilies.DisplayName(backbone.WeightsFamily)),
            Data = new DataReport(Path.GetFullPath(s.Features!), images.Count, result.TrainCount, result.ValidationCount,
                images.GroupBy(i => i.Label).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
                [.. result.ValidationImages.Select(i => i.ImagePath)], 0, images.Count, 0),
            Metrics = result.Validation,
            SavedModelOnValidation = result.SavedModelOnValidation,
            Leaderboard = [.. result.Leaderboard.Select(e => new LeaderboardReport(e.Trainer.ToString().ToLowerInvariant(),
                e.Validation?.MicroAccuracy, e.Validation?.MacroAccuracy, e.Validation?.LogLoss, e.Duration.TotalSeconds, e.Skipped))],
        };
        report.Save(ModelFiles.ReportPath(output));
        ConfusionPicture.Save(result.Validation, ModelFiles.ConfusionPath(output));

        var m = result.Validation;
        if (s.Json)
        {
            Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, ModelReport.Json));
            return ExitCodes.Success;
        }
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{report.Trainer}: micro-accuracy {m.MicroAccuracy:0.000}, macro-accuracy {m.MacroAccuracy:0.000}, log-loss {m.LogLoss:0.000} on {m.Rows} validation rows; trained on {images.Count} stored feature rows from {set.Files.Count} file(s), no image decoded; saved {InertText.Line(output)}");
        if (s.Quiet) Console.Out.WriteLine(line);
        else AnsiConsole.MarkupLine(Inert.Markup(line));
        return ExitCodes.Success;
    }
}
