using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Transforms;

namespace EffNet.MLNet.Sweep;

/// <summary>
/// Compares EfficientNet variants on the user's images and machine: for each, features through
/// the feature cache, a cross-validated linear-probe accuracy with its fold interval, the
/// measured cost of one image and of a batch, and its size; then the Pareto frontier and a
/// recommendation.
/// </summary>
public static class SweepRunner
{
    /// <summary>What a sweep with random weights says about its accuracies.</summary>
    public const string RandomInitWarning =
        "These accuracies come from seeded random weights, not pretrained ones. They check that the sweep works; they say nothing about how the pretrained variants compare on your data.";

    /// <summary>The precisions a sweep accepts.</summary>
    public static readonly IReadOnlyList<string> Precisions = ["fp32", "int8"];

    /// <summary>Why <paramref name="precision"/> cannot be swept, or null when it can.</summary>
    /// <param name="precision">The precision asked for.</param>
    /// <param name="name">What the caller calls the setting (the command line passes its flag).</param>
    internal static string? PrecisionProblem(string precision, string name = "SweepOptions.Precision") => precision switch
    {
        "fp32" or "int8" => null,
        _ => $"{name} must be fp32 or int8, not '{precision}'.",
    };

    /// <summary>Sweep <paramref name="images"/> over the variants of <paramref name="options"/>, smallest first.</summary>
    /// <param name="images">Labelled images (at least two labels, at least one image per fold).</param>
    /// <param name="options">Variants, weights, folds, budgets.</param>
    /// <param name="progress">Told what each variant is doing.</param>
    /// <param name="cancellationToken">Stops between images, folds and variants; features computed until then stay in the cache.</param>
    /// <exception cref="ArgumentException">The options or the data cannot be swept (named in the message).</exception>
    /// <exception cref="FileNotFoundException">A variant's checkpoint is missing from <see cref="SweepOptions.WeightsDirectory"/>.</exception>
    public static SweepResult Run(IReadOnlyList<LabeledImage> images, SweepOptions options, IProgress<SweepProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        Validate(images, options);
        var plan = options.Variants.Distinct(StringComparer.OrdinalIgnoreCase).Select(v => Plan(v, options.Resolution))
            .OrderBy(p => p.Result.MultiplyAdds).ToList();
        var clock = Stopwatch.StartNew();
        var results = new List<VariantResult>();
        var bad = new Dictionary<string, Imaging.BadImage>(StringComparer.Ordinal);
        double? measuredRate = null;
        var stopped = false;
        var labels = images.Select(i => i.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        var usable = images.Count;
        var int8 = options.Precision == "int8";
        // Every variant is calibrated on the same bounded sample of the data, as `effnet train --precision int8` does by default;
        // at most one fold's worth, since those images are only ever trained on (CrossValidate never scores them).
        var calibration = int8 ? CalibrationSample.Pick(images.Select(i => i.ImagePath), Math.Clamp(images.Count / options.Folds, 1, CalibrationSample.DefaultCount)) : null;
        var calibrationSet = (calibration ?? []).ToHashSet(StringComparer.Ordinal);
        for (var index = 0; index < plan.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (variant, sized) = plan[index];
            void Report(SweepStage stage, int done, int total, VariantResult? r = null) =>
                progress?.Report(new SweepProgress(sized.Variant, index, plan.Count, stage, done, total, r));
            VariantResult Skip(string reason)
            {
                var skipped = sized with { Skipped = reason };
                Report(SweepStage.Skipped, 0, 0, skipped);
                return skipped;
            }

            if (options.TimeBudget is { } budget && results.Any(r => r.Completed) && clock.Elapsed >= budget)
            {
                stopped = true;
                results.Add(Skip(string.Create(CultureInfo.InvariantCulture,
                    $"the time budget of {budget.TotalSeconds:0.#} s was spent after {clock.Elapsed.TotalSeconds:0.#} s; larger variants were not tried")));
                continue;
            }
            string? OverBudget(int uncached)
            {
                if (options.TimeBudget is not { } limit || uncached == 0) return null;
                var rate = measuredRate ?? options.EstimatedCoreMillisecondsPerGigaMac;
                var estimate = TimeSpan.FromMilliseconds(uncached * rate * sized.MultiplyAdds / 1e9 / Environment.ProcessorCount);
                var left = limit - clock.Elapsed;
                return estimate <= left ? null : string.Create(CultureInfo.InvariantCulture,
                    $"estimated {estimate.TotalSeconds:0.#} s to featurize {uncached} images not in the feature cache ({rate:0.#} core-ms per billion multiply-adds{(measuredRate is null ? ", before any variant was measured" : ", as measured")}), more than the {Math.Max(0, left.TotalSeconds):0.#} s left of the {limit.TotalSeconds:0.#} s time budget");
            }

            // Pretrained weights not downloaded yet: no feature of theirs can be cached, and a skipped variant must not cost a download.
            if (!options.RandomInit && options.WeightsDirectory is null && !PretrainedWeightsPresent(variant.Name) && OverBudget(images.Count) is { } early)
            {
                results.Add(Skip(early));
                continue;
            }
            var watch = Stopwatch.StartNew();
            Report(SweepStage.Preparing, 0, 0);
            var ml = new MLContext(options.Seed);
            var featurizerOptions = new EfficientNetFeaturizerOptions
            {
                Variant = sized.Variant,
                RandomInit = options.RandomInit,
                Seed = options.WeightsSeed,
                WeightsPath = options.WeightsDirectory is { } folder ? SweepWeights.Find(folder, variant.Name) : null,
                Resolution = options.Resolution,
                BatchSize = options.BatchSize,
                AcceptTruncatedImages = options.AcceptTruncatedImages,
                Precision = int8 ? Onnx.Precision.Int8 : Onnx.Precision.Float32,
                CalibrationImages = calibration,
                Int8Target = options.Int8Target,
            };
            var backbone = EfficientNetBackbone.Resolve(featurizerOptions);
            using var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: featurizerOptions).Fit(ImageClassifierTrainer.EmptyInput(ml));
            using var cache = new FeatureCache(options.CacheDirectory ?? FeatureCache.DefaultRoot, featurizer.FeatureIdentity,
                backbone.FeatureDimension, options.OnCacheWarning);

            if (options.TimeBudget is not null
                && OverBudget(images.Count(i => FeatureCache.TryContentHash(i.ImagePath) is not { } hash || !cache.TryGet(hash, out _))) is { } reason)
            {
                results.Add(Skip(reason));
                continue;
            }

            Report(SweepStage.Featurizing, 0, images.Count);
            var featurizing = Stopwatch.StartNew();
            var featurized = ImageClassifierTrainer.Featurize(ml, featurizer, images, cache, options.SkipBadImages,
                new Reporter(n => Report(SweepStage.Featurizing, n, images.Count)), cancellationToken);
            var computed = featurized.Table.Count - featurized.CacheHits;
            if (computed > 0)
                measuredRate = featurizing.Elapsed.TotalMilliseconds * Environment.ProcessorCount / computed / (sized.MultiplyAdds / 1e9);
            foreach (var b in featurized.BadImages) bad.TryAdd(b.ImagePath, b);
            usable = featurized.Table.Count;

            var (folds, testToTrain) = CrossValidate(ml, featurized.Table, options, calibrationSet, (done, total) => Report(SweepStage.CrossValidating, done, total), cancellationToken);
            Report(SweepStage.Measuring, 0, options.TimedRuns);
            var (msPerImage, imagesPerSecond) = MeasureCost(backbone, options);
            var result = sized with
            {
                FoldAccuracies = folds,
                Accuracy = FoldStatistics.Of(folds, testToTrain),
                MillisecondsPerImage = msPerImage,
                ImagesPerSecond = imagesPerSecond,
                FeaturizedImages = computed,
                CacheHits = featurized.CacheHits,
                Seconds = watch.Elapsed.TotalSeconds,
                Int8Check = backbone.Int8Fidelity,
            };
            results.Add(result);
            Report(SweepStage.Finished, 1, 1, result);
        }

        return new SweepResult
        {
            Images = usable,
            Labels = labels,
            RandomInit = options.RandomInit,
            Warning = options.RandomInit ? RandomInitWarning : null,
            Precision = options.Precision,
            Folds = options.Folds,
            CalibrationImages = calibrationSet.Count,
            Trainer = options.Trainer.ToString().ToLowerInvariant(),
            TimeBudgetSeconds = options.TimeBudget?.TotalSeconds,
            StoppedByTimeBudget = stopped,
            MaxMillisecondsPerImage = options.MaxMillisecondsPerImage,
            Machine = $"{Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}",
            Variants = results,
            ParetoFrontier = ParetoFrontier.Of(results).Select(r => r.Variant).ToList(),
            Recommendation = SweepRecommendation.Choose(results, options.MaxMillisecondsPerImage),
            BadImages = [.. bad.Values],
            Seconds = clock.Elapsed.TotalSeconds,
        };
    }

    private static bool PretrainedWeightsPresent(string variant) =>
        Catalog.PretrainedCatalog.Find(variant) is not { } entry
        || File.Exists(Path.Combine(Catalog.PretrainedCatalog.CacheDirectoryFromEnvironment(), entry.FileName));

    private static void Validate(IReadOnlyList<LabeledImage> images, SweepOptions options)
    {
        if (PrecisionProblem(options.Precision) is { } precision) throw new ArgumentException(precision, nameof(options));
        if (options.Variants.Count == 0) throw new ArgumentException("The sweep has no variants; name at least one (b0…b7, phi=X).", nameof(options));
        if (options.RandomInit && options.WeightsDirectory is not null)
            throw new ArgumentException("Give at most one of a weights folder and random weights.", nameof(options));
        if (options.BatchSize is < 1 or > 4096) throw new ArgumentException($"The batch size must lie in [1, 4096], not {options.BatchSize}.", nameof(options));
        if (options.TimedRuns < 1) throw new ArgumentException($"At least one timed run is needed, not {options.TimedRuns}.", nameof(options));
        var labels = images.Select(i => i.Label).Distinct().Count();
        if (labels < 2) throw new ArgumentException($"A sweep needs images of at least two labels; the data has {labels}.", nameof(images));
        if (options.Folds < 2 || options.Folds > images.Count)
            throw new ArgumentException($"The number of folds must lie in [2, {images.Count}] for {images.Count} images, not {options.Folds}.", nameof(options));
    }

    private static (EfficientNetVariant Variant, VariantResult Result) Plan(string name, int? resolution)
    {
        var variant = EfficientNetVariant.Parse(name);
        var architecture = EfficientNetArchitecture.For(variant);
        var side = resolution ?? Catalog.PretrainedCatalog.EvalTransformFor(variant).CropSize;
        return (variant, new VariantResult(name, side, ArchitectureCost.Parameters(architecture, classes: 0),
            ArchitectureCost.MultiplyAdds(architecture, side, classes: 0), architecture.FeatureDimension));
    }

    /// <summary>
    /// Accuracy of the linear probe on each held-out fold, fitted on the other folds, and the mean ratio of
    /// held-out to training images (for the corrected interval). Images in <paramref name="trainOnly"/> (int8
    /// calibration images) are in every fold's training part and in no held-out fold.
    /// </summary>
    private static (List<double> Accuracies, double TestToTrain) CrossValidate(MLContext ml, FeatureTable table, SweepOptions options,
        IReadOnlySet<string> trainOnly, Action<int, int> report, CancellationToken cancellationToken)
    {
        var fold = AssignFolds(table.Images, options.Folds, options.Seed, trainOnly);
        var keys = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(table.ToDataView(ml));
        // The same per-class weights training would use, so the sweep compares variants as they will be trained.
        var weights = ClassWeightRule.Resolve(table.Images.Select(i => i.Label).ToList(), options.ClassWeighting, options.ClassWeights, "SweepOptions.ClassWeights");
        var weightColumn = weights is null ? null : FeatureTable.WeightColumn;
        var accuracies = new List<double>();
        var ratios = new List<double>();
        for (var f = 0; f < options.Folds; f++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            report(f, options.Folds);
            var train = Enumerable.Range(0, table.Count).Where(i => fold[i] != f).ToList();
            var heldOut = Enumerable.Range(0, table.Count).Where(i => fold[i] == f).ToList();
            var model = Trainers.Create(ml, options.Trainer, options.Seed, weightColumn).Fit(keys.Transform(table.ToDataView(ml, train, weights)));
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(keys.Transform(table.ToDataView(ml, heldOut))));
            accuracies.Add(metrics.MicroAccuracy);
            ratios.Add((double)heldOut.Count / train.Count);
        }
        report(options.Folds, options.Folds);
        return (accuracies, ratios.Average());
    }

    /// <summary>Each image's held-out fold; -1 for an image in <paramref name="trainOnly"/>, which every fold trains on and none scores.</summary>
    internal static int[] AssignFolds(IReadOnlyList<LabeledImage> images, int folds, int seed, IReadOnlySet<string> trainOnly)
    {
        var scored = Enumerable.Range(0, images.Count).Where(i => !trainOnly.Contains(images[i].ImagePath)).ToList();
        if (scored.Count < folds)
            throw new InvalidDataException($"Only {scored.Count} images could be scored{(trainOnly.Count > 0 ? $" ({trainOnly.Count} more calibrate int8 and are only trained on)" : "")}, fewer than the {folds} folds.");
        var fold = Enumerable.Repeat(-1, images.Count).ToArray();
        var assigned = StratifiedKFold.Assign(scored.Select(i => images[i].Label).ToList(), folds, seed);
        for (var j = 0; j < scored.Count; j++) fold[scored[j]] = assigned[j];
        return fold;
    }

    /// <summary>Median milliseconds of one image at batch 1, and images per second at the sweep's batch size, through the network alone.</summary>
    private static (double MillisecondsPerImage, double ImagesPerSecond) MeasureCost(EfficientNetBackbone backbone, SweepOptions options)
    {
        using var session = new FeatureSession(backbone.ToBytes());
        var batch = options.BatchSize;
        var pixels = Onnx.SyntheticImages.Batch(batch, session.InputHeight, options.Seed);
        var features = new float[batch * session.FeatureDimension];
        var one = pixels.AsMemory(0, session.ImageSize);
        for (var i = 0; i < 2; i++) session.Run(one, 1, features);
        var times = new double[options.TimedRuns];
        for (var i = 0; i < times.Length; i++)
        {
            var watch = Stopwatch.StartNew();
            session.Run(one, 1, features);
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        var median = times.Length % 2 == 1 ? times[times.Length / 2] : (times[times.Length / 2 - 1] + times[times.Length / 2]) / 2;

        session.Run(pixels, batch, features);
        var runs = Math.Max(1, (int)Math.Ceiling(2.0 * options.TimedRuns / batch));
        var total = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++) session.Run(pixels, batch, features);
        return (median, runs * batch / total.Elapsed.TotalSeconds);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Reporter(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
