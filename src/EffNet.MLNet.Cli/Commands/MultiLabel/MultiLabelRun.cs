using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Training;
using EffNet.MLNet.Training.MultiLabel;
using Microsoft.ML;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Commands.MultiLabel;

/// <summary><c>effnet train --multi-label</c> and the retrain of a multi-label model: featurize (through the cache), fit a classifier per label, save, report.</summary>
internal static class MultiLabelRun
{
    public sealed record Request(string Data, string Output, EfficientNetFeaturizerOptions Backbone, string TrainerOption, double ValidationFraction,
        int Seed, bool Quiet, bool Json, string ClassWeights, string? ExpectedIdentity = null, bool FailOnBadImage = false);

    public static int Execute(Request r, Func<bool, IReadOnlyList<string>, EfficientNetBackbone> resolveBackbone, CancellationToken cancellationToken)
    {
        var reportPath = ModelFiles.ReportPath(r.Output);
        var quiet = r.Quiet || r.Json;
        var (weighting, given, recorded) = ClassWeightsOption.Parse(r.ClassWeights);
        if (given is not null) throw new ArgumentException("--multi-label takes --class-weights auto or none; a weights file names classes, and a multi-label model weights each label's two sides.");
        Directory.CreateDirectory(Path.GetDirectoryName(r.Output)!);
        var images = MultiLabelManifest.Load(r.Data);
        var backbone = resolveBackbone(quiet, [.. images.Select(i => i.ImagePath)]);
        if (r.ExpectedIdentity is not null && backbone.Identity != r.ExpectedIdentity)
            throw new InvalidDataException($"The backbone differs from the one the model was trained with ({r.ExpectedIdentity} then, {backbone.Identity} now); train a new model instead.");
        var ml = new MLContext(r.Seed);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: r.Backbone).Fit(ImageClassifierTrainer.EmptyInput(ml));
        MultiLabelFeatureTable table;
        int hits;
        IReadOnlyList<Imaging.BadImage> bad;
        using (var cache = TrainingRun.OpenCache(featurizer))
            (table, hits, bad) = MultiLabelTrainer.Featurize(ml, featurizer, images, cache, skipBadImages: !r.FailOnBadImage, null, cancellationToken);
        BadImages.Print(bad);
        if (table.Count == 0) throw new InvalidDataException($"None of the images of '{r.Data}' can be used.");
        var options = new MultiLabelTrainingOptions
        {
            Trainer = r.TrainerOption == "auto" ? null : Trainers.Parse(r.TrainerOption),
            ValidationFraction = r.ValidationFraction,
            Seed = r.Seed,
            ClassWeighting = weighting,
        };
        var result = quiet
            ? MultiLabelTrainer.Train(ml, featurizer, table, options, cancellationToken)
            : AnsiConsole.Status().Start("Training a classifier per label…", _ => MultiLabelTrainer.Train(ml, featurizer, table, options, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();

        BadImages.WriteOrRemoveReport(r.Output, [.. bad]);
        ModelFiles.SaveModel(ml, result.Model, r.Output);
        var report = new MultiLabelReport
        {
            Labels = result.Labels,
            Thresholds = result.Thresholds,
            Backbone = BackboneReport.From(backbone),
            Trainer = result.Trainer.ToString().ToLowerInvariant(),
            Settings = new TrainingSettingsReport(r.TrainerOption, r.ValidationFraction, r.Seed, null, r.Backbone.WeightsPath, r.Backbone.RandomInit, r.Backbone.Seed ?? 0,
                r.Backbone.Variant, Weights.CheckpointFamilies.DisplayName(backbone.WeightsFamily)) { ClassWeights = recorded },
            Data = new DataReport(Path.GetFullPath(r.Data), table.Count, result.TrainCount, result.ValidationImages.Count,
                result.Labels.ToDictionary(l => l, l => table.Images.Count(i => i.Labels.Contains(l, StringComparer.Ordinal))),
                result.ValidationImages.Select(i => i.ImagePath).ToList(), table.Count - hits, hits, bad.Count),
            Metrics = result.Validation,
            Leaderboard = result.Leaderboard.Select(e => new MultiLabelLeaderboardReport(e.Trainer.ToString().ToLowerInvariant(), e.Validation.MacroF1, e.Validation.MeanAveragePrecision, e.Duration.TotalSeconds)).ToList(),
            LabelWeights = result.LabelWeights.Count == 0 ? null : result.LabelWeights,
        };
        report.Save(reportPath);

        if (r.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, ModelReport.Json));
            return ExitCodes.Success;
        }
        var m = result.Validation;
        if (r.Quiet)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{report.Trainer}: macro-F1 {m.MacroF1:0.000}, micro-F1 {m.MicroF1:0.000}, mAP {m.MeanAveragePrecision:0.000}, Hamming loss {m.HammingLoss:0.000} on {m.Rows} validation images; {table.Count - hits} images featurized, {hits} from the cache; saved {InertText.Line(r.Output)}"));
            return ExitCodes.Success;
        }
        MultiLabelTables.Metrics(m);
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"{table.Count - hits} images featurized, {hits} taken from the feature cache."));
        AnsiConsole.MarkupLine($"Saved [green]{Inert.Markup(r.Output)}[/] and [green]{Inert.Markup(reportPath)}[/] (trainer {report.Trainer}, a threshold per label chosen on the validation split).");
        return ExitCodes.Success;
    }
}
