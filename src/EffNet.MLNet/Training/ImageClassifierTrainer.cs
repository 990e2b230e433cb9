using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace EffNet.MLNet.Training;

/// <summary>Options of <see cref="ImageClassifierTrainer.Train"/>.</summary>
public sealed record TrainingOptions
{
    /// <summary>One trainer, or null to try every one (<c>auto</c>) and keep the best by validation macro-accuracy.</summary>
    public TrainerKind? Trainer { get; init; }

    /// <summary>Share of each label held out for validation. Default: 0.2.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Seed of the split and the trainers.</summary>
    public int Seed { get; init; }

    /// <summary>Stop trying further trainers once this much time is spent (the first always runs).</summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>
    /// How images are weighted by class. Default: <see cref="Training.ClassWeighting.Auto"/>, inverse frequency
    /// when the largest class has at least three times the images of the smallest.
    /// </summary>
    public ClassWeighting ClassWeighting { get; init; } = ClassWeighting.Auto;

    /// <summary>Explicit weight per label (every label needs one); when set, <see cref="ClassWeighting"/> is not used.</summary>
    public IReadOnlyDictionary<string, double>? ClassWeights { get; init; }
}

/// <summary>What <see cref="ImageClassifierTrainer.Featurize(MLContext, EfficientNetFeaturizerTransformer, IReadOnlyList{LabeledImage}, FeatureCache?, bool, IProgress{int}?, CancellationToken)"/> produced.</summary>
/// <param name="Table">Features of every usable image, in input order.</param>
/// <param name="CacheHits">How many of them came from the feature cache.</param>
/// <param name="BadImages">Images left out, with the reason (found while decoding).</param>
/// <param name="AcceptedTruncated">Truncated images featurized from the rows that are there, because the featurizer accepts them.</param>
public sealed record FeaturizeResult(FeatureTable Table, int CacheHits, IReadOnlyList<Imaging.BadImage> BadImages, IReadOnlyList<Imaging.BadImage> AcceptedTruncated);

/// <summary>One trainer's outcome in an <c>auto</c> run.</summary>
public sealed record LeaderboardEntry(TrainerKind Trainer, ClassificationMetrics? Validation, TimeSpan Duration, string? Skipped);

/// <summary>What <see cref="ImageClassifierTrainer.Train"/> produced.</summary>
/// <param name="Model">Featurizer (stock chain) → classifier → <c>PredictedLabel</c> as text. Input column <c>ImagePath</c>.</param>
/// <param name="Trainer">The chosen trainer.</param>
/// <param name="Labels">Class names, in the order of the <c>Score</c> vector.</param>
/// <param name="Validation">Metrics of the chosen trainer on the held-out split (refitted on all data afterwards).</param>
/// <param name="Leaderboard">Every trainer tried.</param>
/// <param name="SavedModelOnValidation">The saved (refitted) model, run as saved (stock ML.NET decoding), on the same validation images, which it has seen: what <c>effnet evaluate</c> on them reproduces exactly.</param>
/// <param name="ValidationImages">The held-out images.</param>
/// <param name="TrainCount">Rows trained on during selection.</param>
public sealed record TrainingResult(
    ITransformer Model, TrainerKind Trainer, IReadOnlyList<string> Labels, ClassificationMetrics Validation,
    IReadOnlyList<LeaderboardEntry> Leaderboard, ClassificationMetrics SavedModelOnValidation,
    IReadOnlyList<LabeledImage> ValidationImages, int TrainCount)
{
    /// <summary>Rows held out.</summary>
    public int ValidationCount => ValidationImages.Count;

    /// <summary>The weight each label's images had in training, or null when training was unweighted.</summary>
    public IReadOnlyDictionary<string, double>? ClassWeights { get; init; }

    /// <summary>When <see cref="ClassWeights"/> is set: the chosen trainer fitted without weights on the same split, for comparison (per-class recall before and after).</summary>
    public ClassificationMetrics? UnweightedValidation { get; init; }
}

/// <summary>
/// Model Builder's image classification as a library call: featurize once, pick and fit a
/// trainer on the cached features, and compose a portable model that starts from image paths.
/// </summary>
public static class ImageClassifierTrainer
{
    // Features reach the cache in batches of this many images, so a run stopped part-way keeps most of its work.
    private const int CacheBatch = 32;

    /// <summary>
    /// Features for every image, taking those already in <paramref name="cache"/> and running only
    /// the others through the featurizer, adding them to the cache as they come.
    /// </summary>
    /// <param name="ml">The context.</param>
    /// <param name="featurizer">Computes missing features; its <see cref="EfficientNetFeaturizerTransformer.FeatureIdentity"/> must be the cache's.</param>
    /// <param name="images">The images, in the order of the table.</param>
    /// <param name="cache">Features already computed.</param>
    /// <param name="progress">Told how many images have features so far.</param>
    /// <param name="cancellationToken">Stops between images; features computed until then stay in the cache.</param>
    /// <returns>The table, and how many images came from the cache.</returns>
    /// <exception cref="Imaging.BadImageException">An image is not usable (see <see cref="Featurize(MLContext, EfficientNetFeaturizerTransformer, IReadOnlyList{LabeledImage}, FeatureCache?, bool, IProgress{int}?, CancellationToken)"/> to skip such images instead).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static (FeatureTable Table, int CacheHits) Featurize(MLContext ml, EfficientNetFeaturizerTransformer featurizer,
        IReadOnlyList<LabeledImage> images, FeatureCache cache, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var result = Featurize(ml, featurizer, images, cache, skipBadImages: false, progress, cancellationToken);
        return (result.Table, result.CacheHits);
    }

    /// <summary>Run every image through the featurizer once.</summary>
    /// <exception cref="Imaging.BadImageException">An image is not usable.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static FeatureTable Featurize(MLContext ml, EfficientNetFeaturizerTransformer featurizer, IReadOnlyList<LabeledImage> images,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        Featurize(ml, featurizer, images, cache: null, skipBadImages: false, progress, cancellationToken).Table;

    /// <summary>
    /// Features for every usable image, through <paramref name="cache"/> when one is given. An image
    /// found unusable while decoding (damaged, truncated unless the featurizer accepts truncated
    /// images, …) is left out of the table and listed in <see cref="FeaturizeResult.BadImages"/> when
    /// <paramref name="skipBadImages"/>, else it stops the run with <see cref="Imaging.BadImageException"/>.
    /// Truncated images that were accepted are featurized, listed in <see cref="FeaturizeResult.AcceptedTruncated"/>,
    /// and never cached, so a run that does not accept them finds them again.
    /// </summary>
    /// <exception cref="Imaging.BadImageException">An image is not usable and <paramref name="skipBadImages"/> is false.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; features computed until then stay in the cache.</exception>
    public static FeaturizeResult Featurize(MLContext ml, EfficientNetFeaturizerTransformer featurizer,
        IReadOnlyList<LabeledImage> images, FeatureCache? cache, bool skipBadImages, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(featurizer);
        if (cache is not null && cache.Identity != featurizer.FeatureIdentity)
            throw new ArgumentException($"The feature cache holds features of '{cache.Identity}', not of this featurizer ('{featurizer.FeatureIdentity}'); open it with featurizer.FeatureIdentity.", nameof(cache));
        var hashes = cache is null ? null : images.Select(i => FeatureCache.TryContentHash(i.ImagePath)).ToList();
        var vectors = new float[]?[images.Count];
        var missing = new List<int>();
        for (var i = 0; i < images.Count; i++)
            if (hashes?[i] is { } hash && cache!.TryGet(hash, out var v)) vectors[i] = v; else missing.Add(i);
        var hits = images.Count - missing.Count;
        progress?.Report(hits);
        if (cache is not null)
            FeaturizerContext.Of(ml, cancellationToken).Info($"Feature cache: {hits:N0} of {images.Count:N0} images found, {missing.Count:N0} to featurize.");

        var bad = new List<Imaging.BadImage>();
        var truncated = new List<Imaging.BadImage>();
        if (missing.Count > 0)
        {
            var pending = new List<(string, float[])>(CacheBatch);
            try
            {
                var input = ml.Data.LoadFromEnumerable(missing.Select(i => new PathRow { ImagePath = images[i].ImagePath }));
                // Cached under the hash of the bytes actually decoded, not the hash looked up above: a file
                // replaced in between must not have the new image's features stored under the old content.
                var decoded = cache is null ? null : new Imaging.DecodedContent();
                var output = featurizer.TransformWith(input, skipBadImages ? BadImageHandling.MissingFeatures : BadImageHandling.Throw,
                    issue => (issue.Accepted ? truncated : bad).Add(new Imaging.BadImage(issue.ImagePath, issue.Reason)), decoded);
                using var cursor = output.GetRowCursor([output.Schema[featurizer.OutputColumnName]]);
                var getter = cursor.GetGetter<VBuffer<float>>(output.Schema[featurizer.OutputColumnName]);
                VBuffer<float> buffer = default;
                cancellationToken.ThrowIfCancellationRequested();
                for (var k = 0; ; k++)
                {
                    var (badBefore, truncatedBefore) = (bad.Count, truncated.Count); // MoveNext reports the row's issue
                    if (!cursor.MoveNext()) break;
                    var row = missing[k];
                    progress?.Report(hits + k + 1);
                    if (bad.Count == badBefore)
                    {
                        getter(ref buffer);
                        vectors[row] = buffer.DenseValues().ToArray();
                        if (decoded is not null && truncated.Count == truncatedBefore && decoded.TryGet(k, out var decodedHash)) pending.Add((decodedHash, vectors[row]!));
                        if (pending.Count == CacheBatch)
                        {
                            cache!.AddRange(pending);
                            pending.Clear();
                        }
                    }
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
            finally
            {
                // Whatever was computed is right even when the run stops (cancelled, or a bad image under "fail").
                cache?.AddRange(pending);
            }
        }

        var kept = Enumerable.Range(0, images.Count).Where(i => vectors[i] is not null).ToList();
        var table = new FeatureTable(kept.Select(i => images[i]).ToList(), kept.Select(i => vectors[i]!).ToList(), featurizer.Backbone.FeatureDimension);
        return new FeaturizeResult(table, hits, bad, truncated);
    }

    /// <summary>Select (or use) a trainer on a stratified split, then refit it on all rows.</summary>
    /// <param name="ml">The context.</param>
    /// <param name="featurizer">The featurizer the table came from; the model starts with its stock chain.</param>
    /// <param name="table">Features and labels.</param>
    /// <param name="options">Trainer choice, split and seed.</param>
    /// <param name="cancellationToken">Checked between trainers (ML.NET's trainers themselves cannot be stopped).</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static TrainingResult Train(MLContext ml, EfficientNetFeaturizerTransformer featurizer, FeatureTable table, TrainingOptions options,
        CancellationToken cancellationToken = default) =>
        TrainCore(ml, featurizer, table, options, decodeValidationImages: true, cancellationToken);

    /// <summary>
    /// <see cref="Train(MLContext, EfficientNetFeaturizerTransformer, FeatureTable, TrainingOptions, CancellationToken)"/>; with
    /// <paramref name="decodeValidationImages"/> false (features computed elsewhere, images not at hand) the
    /// refitted model's validation metrics are measured on the table's features, and no image is decoded.
    /// </summary>
    internal static TrainingResult TrainCore(MLContext ml, EfficientNetFeaturizerTransformer featurizer, FeatureTable table, TrainingOptions options,
        bool decodeValidationImages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(table);
        var labels = table.Images.Select(i => i.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        if (labels.Count < 2) throw new InvalidDataException($"Training needs at least two labels; the data has {labels.Count} ({string.Join(", ", labels)}).");
        var (train, validation) = StratifiedSplit.Split(table.Images.Select(i => i.Label).ToList(), options.ValidationFraction, options.Seed);
        if (validation.Length == 0) throw new InvalidDataException("The validation split is empty; raise the validation fraction or add images.");
        var weights = ClassWeightRule.Resolve(table.Images.Select(i => i.Label).ToList(), options.ClassWeighting, options.ClassWeights);
        var weightColumn = weights is null ? null : FeatureTable.WeightColumn;
        var trainView = table.ToDataView(ml, train, weights);
        var validationView = table.ToDataView(ml, validation);
        var keys = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(table.ToDataView(ml));

        var candidates = options.Trainer is { } only ? [only] : Trainers.All;
        var board = new List<LeaderboardEntry>();
        var clock = Stopwatch.StartNew();
        foreach (var kind in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (board.Count > 0 && options.TimeBudget is { } budget && clock.Elapsed > budget)
            {
                board.Add(new LeaderboardEntry(kind, null, TimeSpan.Zero, "time budget spent"));
                continue;
            }
            var watch = Stopwatch.StartNew();
            var predictor = Trainers.Create(ml, kind, options.Seed, weightColumn).Fit(keys.Transform(trainView));
            var metrics = ml.MulticlassClassification.Evaluate(predictor.Transform(keys.Transform(validationView)));
            board.Add(new LeaderboardEntry(kind, ClassificationMetrics.From(metrics, labels), watch.Elapsed, null));
        }
        var best = board.Where(e => e.Validation is not null)
            .OrderByDescending(e => e.Validation!.MacroAccuracy).ThenBy(e => e.Validation!.LogLoss).First();

        ClassificationMetrics? unweighted = null;
        if (weights is not null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var plain = Trainers.Create(ml, best.Trainer, options.Seed).Fit(keys.Transform(table.ToDataView(ml, train)));
            unweighted = ClassificationMetrics.From(ml.MulticlassClassification.Evaluate(plain.Transform(keys.Transform(validationView))), labels);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var all = keys.Transform(table.ToDataView(ml, null, weights));
        var final = Trainers.Create(ml, best.Trainer, options.Seed, weightColumn).Fit(all);
        var toText = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(final.Transform(all));
        var model = new TransformerChain<ITransformer>(featurizer.StockEquivalent, final, toText);
        // The saved model itself, stock decoding included, on the held-out images: what evaluate computes.
        var validationImages = validation.Select(i => table.Images[i]).ToList();
        var seen = decodeValidationImages
            ? ModelEvaluator.Evaluate(ml, model, labels, validationImages)
            : ClassificationMetrics.From(ml.MulticlassClassification.Evaluate(final.Transform(keys.Transform(validationView))), labels);
        return new TrainingResult(model, best.Trainer, labels, best.Validation!, board, seen, validationImages, train.Length)
        {
            ClassWeights = weights,
            UnweightedValidation = unweighted,
        };
    }

    /// <summary>An empty view of the trained model's input (one <c>ImagePath</c> column), to fit a featurizer on.</summary>
    public static IDataView EmptyInput(MLContext ml) => ml.Data.LoadFromEnumerable(Array.Empty<PathRow>());

    /// <summary>The input schema of a trained model: one <c>ImagePath</c> text column.</summary>
    public static DataViewSchema InputSchema(MLContext ml) => ml.Data.LoadFromEnumerable(Array.Empty<PathRow>()).Schema;

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
