using System.Globalization;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>What train and retrain share: featurize (through the cache), select, refit, save, report.</summary>
internal static class TrainingRun
{
    public sealed record Request(
        string Data, string Output, EfficientNetFeaturizerOptions Backbone, string TrainerOption, double ValidationFraction,
        int Seed, double? TimeBudget, bool Quiet, bool Json, string? ExpectedIdentity = null, bool FailOnBadImage = false,
        Sweep.SweepResult? Sweep = null, System.Text.Json.Nodes.JsonNode? FineTuning = null, string ClassWeights = "auto");

    public static int Execute(Request r, Func<bool, EfficientNetBackbone> resolveBackbone, CancellationToken cancellationToken = default) =>
        Execute(r, (quiet, _) => resolveBackbone(quiet), cancellationToken);

    /// <param name="r">What to train.</param>
    /// <param name="resolveBackbone">(quiet, the dataset's image paths, the default int8 calibration sample) → backbone.</param>
    /// <param name="cancellationToken">Stops between images and before anything is written.</param>
    public static int Execute(Request r, Func<bool, IReadOnlyList<string>, EfficientNetBackbone> resolveBackbone, CancellationToken cancellationToken = default)
    {
        var reportPath = ModelFiles.ReportPath(r.Output);
        var quiet = r.Quiet || r.Json;
        Directory.CreateDirectory(Path.GetDirectoryName(r.Output)!);
        var (weighting, givenWeights, recordedWeights) = ClassWeightsOption.Parse(r.ClassWeights);
        var (images, bad) = BadImages.CheckHeaders(BadImages.LoadDataset(r.Data), r.FailOnBadImage);
        BadImages.Print(bad);
        if (images.Count == 0) throw new InvalidDataException($"None of the images under '{r.Data}' can be read.");
        var backbone = resolveBackbone(quiet, [.. images.Select(i => i.ImagePath)]);
        if (r.ExpectedIdentity is not null && backbone.Identity != r.ExpectedIdentity)
            throw new InvalidDataException($"The backbone differs from the one the model was trained with ({r.ExpectedIdentity} then, {backbone.Identity} now); train a new model instead.");
        var ml = new MLContext(r.Seed);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: r.Backbone)
            .Fit(ml.Data.LoadFromEnumerable(Array.Empty<TrainCommand.ImageInput>()));
        var featurized = Featurize(ml, featurizer, images, quiet, skipBadImages: !r.FailOnBadImage, cancellationToken);
        var (table, hits) = (featurized.Table, featurized.CacheHits);
        BadImages.Print(featurized.BadImages);
        BadImages.WarnTruncated(featurized.AcceptedTruncated);
        bad.AddRange(featurized.BadImages);
        if (table.Count == 0) throw new InvalidDataException($"None of the images under '{r.Data}' can be used.");
        images = [.. table.Images];
        // A weights file that misses a label of this data is named before any training.
        ClassWeightRule.Resolve([.. images.Select(i => i.Label)], weighting, givenWeights, recordedWeights);
        var options = new TrainingOptions
        {
            Trainer = r.TrainerOption == "auto" ? null : Trainers.Parse(r.TrainerOption),
            ValidationFraction = r.ValidationFraction,
            Seed = r.Seed,
            TimeBudget = r.TimeBudget is { } t ? TimeSpan.FromSeconds(t) : null,
            ClassWeighting = weighting,
            ClassWeights = givenWeights,
        };
        var result = quiet
            ? ImageClassifierTrainer.Train(ml, featurizer, table, options, cancellationToken)
            : AnsiConsole.Status().Start("Training…", _ => ImageClassifierTrainer.Train(ml, featurizer, table, options, cancellationToken));
        // The last point to stop: from here on every output is written, so none is left half-done.
        cancellationToken.ThrowIfCancellationRequested();

        BadImages.WriteOrRemoveReport(r.Output, bad);
        ModelFiles.SaveModel(ml, result.Model, r.Output);
        var report = new ModelReport
        {
            Labels = result.Labels,
            Backbone = BackboneReport.From(backbone),
            Trainer = result.Trainer.ToString().ToLowerInvariant(),
            Settings = new TrainingSettingsReport(r.TrainerOption, r.ValidationFraction, r.Seed, r.TimeBudget,
                r.Backbone.WeightsPath, r.Backbone.RandomInit, r.Backbone.Seed ?? 0, r.Backbone.Variant, Weights.CheckpointFamilies.DisplayName(backbone.WeightsFamily))
            {
                ClassWeights = recordedWeights,
            },
            Data = new DataReport(Path.GetFullPath(r.Data), images.Count, result.TrainCount, result.ValidationCount,
                images.GroupBy(i => i.Label).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
                result.ValidationImages.Select(i => i.ImagePath).ToList(), images.Count - hits, hits, bad.Count),
            Metrics = result.Validation,
            SavedModelOnValidation = result.SavedModelOnValidation,
            Leaderboard = result.Leaderboard.Select(e => new LeaderboardReport(e.Trainer.ToString().ToLowerInvariant(),
                e.Validation?.MicroAccuracy, e.Validation?.MacroAccuracy, e.Validation?.LogLoss, e.Duration.TotalSeconds, e.Skipped)).ToList(),
            Sweep = r.Sweep,
            ClassWeights = result.ClassWeights,
            UnweightedMetrics = result.UnweightedValidation,
        };
        var reportJson = FineTuneRecord.ToJson(report, r.FineTuning);
        AtomicFile.WriteAllText(reportPath, reportJson);
        ConfusionPicture.Save(result.Validation, ModelFiles.ConfusionPath(r.Output));

        var inv = CultureInfo.InvariantCulture;
        var m = result.Validation;
        if (r.Json)
        {
            Console.Out.WriteLine(reportJson);
            return ExitCodes.Success;
        }
        if (r.Quiet)
        {
            Console.Out.WriteLine(string.Create(inv,
                $"{report.Trainer}: micro-accuracy {m.MicroAccuracy:0.000}, macro-accuracy {m.MacroAccuracy:0.000}, log-loss {m.LogLoss:0.000} on {m.Rows} validation images{(result.ClassWeights is null ? "" : ", classes weighted")}; {images.Count - hits} images featurized, {hits} from the cache; saved {InertText.Line(r.Output)}"));
            return ExitCodes.Success;
        }
        Reports.Leaderboard(result);
        Reports.Metrics(m);
        Reports.ClassWeights(result);
        AnsiConsole.MarkupLine(string.Create(inv, $"{images.Count - hits} images featurized, {hits} taken from the feature cache."));
        AnsiConsole.MarkupLine($"Saved [green]{Inert.Markup(r.Output)}[/], [green]{Inert.Markup(reportPath)}[/] and the confusion matrix picture (trainer {report.Trainer}).");

        // A few predictions by the saved model itself, as a user would make them.
        using var predictor = new PooledPredictor(r.Output, new PooledPredictorOptions { MaxDecodedBytes = ImageCheck.DefaultMaxDecodedBytes });
        var samples = images.GroupBy(i => i.Label).Select(g => g.Last()).Take(6).ToList();
        Reports.Predictions(PredictCommand.Predict(predictor, result.Labels, samples.Select(i => i.ImagePath).ToList(), 1), samples);
        return ExitCodes.Success;
    }

    private static FeaturizeResult Featurize(MLContext ml, EfficientNetFeaturizerTransformer featurizer, IReadOnlyList<LabeledImage> images, bool quiet,
        bool skipBadImages, CancellationToken cancellationToken)
    {
        using var cache = OpenCache(featurizer);
        if (quiet) return ImageClassifierTrainer.Featurize(ml, featurizer, images, cache, skipBadImages, null, cancellationToken);
        FeaturizeResult? result = null;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"Featurizing {images.Count} images", maxValue: images.Count);
                var watch = System.Diagnostics.Stopwatch.StartNew();
                result = ImageClassifierTrainer.Featurize(ml, featurizer, images, cache, skipBadImages, new SyncProgress(n => task.Value = n), cancellationToken);
                task.Description = string.Create(CultureInfo.InvariantCulture, $"Featurized {images.Count} images in {watch.Elapsed.TotalSeconds:0.0} s");
            });
        return result!;
    }

    /// <summary>The feature cache under EFFNET_HOME for this featurizer; what it discards is said on stderr.</summary>
    public static FeatureCache OpenCache(EfficientNetFeaturizerTransformer featurizer) =>
        new(FeatureCache.DefaultRoot, featurizer.FeatureIdentity, featurizer.Backbone.FeatureDimension,
            warning => Console.Error.WriteLine("warning: " + InertText.Line(warning)));

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
