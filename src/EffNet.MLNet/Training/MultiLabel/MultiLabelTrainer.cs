using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>Options of <see cref="MultiLabelTrainer.Train"/>.</summary>
public sealed record MultiLabelTrainingOptions
{
    /// <summary>The binary trainer used for every label, or null to try each and keep the best validation macro-F1.</summary>
    public TrainerKind? Trainer { get; init; }

    /// <summary>Share of each label's images held out for validation (thresholds and metrics come from them). Default: 0.2.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Seed of the split and the trainers.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// How each label's binary classifier weights its two sides. Default: <see cref="Training.ClassWeighting.Auto"/>, inverse
    /// frequency of "has the label" and "has not" when one side has at least three times the images of the other.
    /// </summary>
    public ClassWeighting ClassWeighting { get; init; } = ClassWeighting.Auto;
}

/// <summary>One trainer's outcome when several were tried.</summary>
public sealed record MultiLabelLeaderboardEntry(TrainerKind Trainer, MultiLabelMetrics Validation, TimeSpan Duration);

/// <summary>What <see cref="MultiLabelTrainer.Train"/> produced.</summary>
/// <param name="Model">Featurizer (stock chain) → one binary classifier per label → <c>Probability</c>, a vector with a slot per label, slot names the labels. Input column <c>ImagePath</c>.</param>
/// <param name="Trainer">The binary trainer used.</param>
/// <param name="Labels">The labels, in <c>Probability</c> order.</param>
/// <param name="Thresholds">Per label, the best-F1 threshold on the validation probabilities (<see cref="ThresholdRule"/>).</param>
/// <param name="Validation">Metrics on the validation split at those thresholds, of the saved classifiers (fitted without it; thresholds tuned on it).</param>
/// <param name="ValidationImages">The held-out images.</param>
/// <param name="ValidationProbabilities">The held-out images' probabilities the thresholds were chosen on.</param>
/// <param name="TrainCount">Rows trained on during selection.</param>
public sealed record MultiLabelTrainingResult(ITransformer Model, TrainerKind Trainer, IReadOnlyList<string> Labels, IReadOnlyList<float> Thresholds,
    MultiLabelMetrics Validation, IReadOnlyList<MultiLabeledImage> ValidationImages, IReadOnlyList<float[]> ValidationProbabilities, int TrainCount)
{
    /// <summary>Every trainer tried, with its validation metrics.</summary>
    public IReadOnlyList<MultiLabelLeaderboardEntry> Leaderboard { get; init; } = [];

    /// <summary>Per label, the weight of its positive images and of its negative ones, where that label was weighted.</summary>
    public IReadOnlyDictionary<string, double[]> LabelWeights { get; init; } = new Dictionary<string, double[]>();
}

/// <summary>
/// Multi-label image classification on cached features: one binary classifier per label, thresholds chosen on the
/// validation split, and a model that stock ML.NET loads (its output is one <c>Probability</c> vector).
/// </summary>
public static class MultiLabelTrainer
{
    /// <summary>The output column of a multi-label model: a vector of per-label probabilities whose slot names are the labels.</summary>
    public const string ProbabilityColumn = "Probability";

    // The binary predictors' own outputs, which the chain hides behind the concatenated vector.
    private static readonly string[] PredictorColumns = ["Score", "Probability", "PredictedLabel"];

    /// <summary>Features of every usable image, through <paramref name="cache"/> when one is given (see <see cref="ImageClassifierTrainer.Featurize(MLContext, EfficientNetFeaturizerTransformer, IReadOnlyList{LabeledImage}, FeatureCache?, bool, IProgress{int}?, CancellationToken)"/>).</summary>
    /// <returns>The table of usable images, and the images left out with the reason.</returns>
    public static (MultiLabelFeatureTable Table, int CacheHits, IReadOnlyList<Imaging.BadImage> BadImages) Featurize(MLContext ml, EfficientNetFeaturizerTransformer featurizer,
        IReadOnlyList<MultiLabeledImage> images, FeatureCache? cache = null, bool skipBadImages = false, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        // Each row's index rides in the label, so rows left out as bad are told apart from duplicates of the same path.
        var indexed = images.Select((image, i) => new LabeledImage(image.ImagePath, i.ToString(CultureInfo.InvariantCulture))).ToList();
        var result = ImageClassifierTrainer.Featurize(ml, featurizer, indexed, cache, skipBadImages, progress, cancellationToken);
        var kept = result.Table.Images.Select(i => images[int.Parse(i.Label, CultureInfo.InvariantCulture)]).ToList();
        return (new MultiLabelFeatureTable(kept, result.Table.Features, result.Table.Dimension), result.CacheHits, result.BadImages);
    }

    /// <summary>Split, fit one binary classifier per label on the training split, choose thresholds on validation; the saved model is those classifiers.</summary>
    /// <exception cref="InvalidDataException">A label is on every image or on none of the training split, or a label clashes with a column of the model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static MultiLabelTrainingResult Train(MLContext ml, EfficientNetFeaturizerTransformer featurizer, MultiLabelFeatureTable table, MultiLabelTrainingOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(featurizer);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        var labels = table.Labels();
        if (labels.Count == 0) throw new InvalidDataException("No image carries a label; multi-label training needs at least one label.");
        var reserved = featurizer.StockEquivalent.GetOutputSchema(ImageClassifierTrainer.InputSchema(ml)).Select(c => c.Name).Concat(PredictorColumns).ToHashSet(StringComparer.Ordinal);
        if (labels.FirstOrDefault(reserved.Contains) is { } clash)
            throw new InvalidDataException($"The label '{InertText.Name(clash)}' is also the name of a column of the model ({string.Join(", ", reserved.Order(StringComparer.Ordinal))}); rename it.");
        var truth = MultiLabelEvaluator.Truth(labels, table.Images);
        var (train, validation) = IterativeStratifiedSplit.Split(table.Images.Select(i => i.Labels).ToList(), options.ValidationFraction, options.Seed);
        if (validation.Length == 0) throw new InvalidDataException("The validation split is empty; raise the validation fraction or add images.");
        for (var j = 0; j < labels.Count; j++)
        {
            var positives = train.Count(i => truth[i][j]);
            if (positives == 0 || positives == train.Length)
                throw new InvalidDataException($"The label '{InertText.Name(labels[j])}' is on {(positives == 0 ? "none" : "every one")} of the {train.Length} training images; each label needs images with it and images without it.");
        }
        var weights = Enumerable.Range(0, labels.Count).Select(j => SideWeights(truth, train, j, options.ClassWeighting)).ToList();

        var candidates = options.Trainer is { } only ? [only] : Trainers.All;
        var board = new List<(MultiLabelLeaderboardEntry Entry, float[] Thresholds, IReadOnlyList<float[]> Probabilities, ITransformer Normalizer, IReadOnlyList<ITransformer> Predictors)>();
        var validationTruth = validation.Select(i => truth[i]).ToList();
        foreach (var kind in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            var (normalizer, predictors) = Fit(ml, table, truth, train, weights, kind, options.Seed, cancellationToken);
            var probabilities = ProbabilitiesOnFeatures(ml, table, validation, normalizer, predictors);
            var thresholds = Enumerable.Range(0, labels.Count)
                .Select(j => ThresholdRule.BestF1(probabilities.Select(r => r[j]).ToList(), validationTruth.Select(r => r[j]).ToList())).ToArray();
            var metrics = MultiLabelMetrics.From(labels, thresholds, probabilities, validationTruth);
            board.Add((new MultiLabelLeaderboardEntry(kind, metrics, watch.Elapsed), thresholds, probabilities, normalizer, predictors));
        }
        var best = board.OrderByDescending(b => b.Entry.Validation.MacroF1).ThenByDescending(b => b.Entry.Validation.MeanAveragePrecision).First();

        // Unlike single-label training, the chosen classifiers are not refitted on all images: the thresholds were
        // chosen on these classifiers' validation probabilities, and a refit moves them (a threshold sits exactly on
        // one validation image's probability), so the saved model is the one the thresholds and metrics are of.
        cancellationToken.ThrowIfCancellationRequested();
        var model = Compose(ml, featurizer, best.Normalizer, best.Predictors, labels);
        var labelWeights = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (var j = 0; j < labels.Count; j++)
            if (weights[j] is { } w) labelWeights[labels[j]] = [w.Positive, w.Negative];
        return new MultiLabelTrainingResult(model, best.Entry.Trainer, labels, best.Thresholds, best.Entry.Validation,
            validation.Select(i => table.Images[i]).ToList(), best.Probabilities, train.Length)
        {
            Leaderboard = board.Select(b => b.Entry).ToList(),
            LabelWeights = labelWeights,
        };
    }

    // Inverse frequency of the label's two sides (mean 1) under the same rule as class weights.
    private static (double Positive, double Negative)? SideWeights(IReadOnlyList<bool[]> truth, int[] rows, int label, ClassWeighting mode)
    {
        var sides = rows.Select(i => truth[i][label] ? "1" : "0").ToList();
        var w = ClassWeightRule.Resolve(sides, mode, null);
        return w is null ? null : (w["1"], w["0"]);
    }

    private static (ITransformer Normalizer, IReadOnlyList<ITransformer> Predictors) Fit(MLContext ml, MultiLabelFeatureTable table, IReadOnlyList<bool[]> truth, int[] rows,
        IReadOnlyList<(double Positive, double Negative)?> weights, TrainerKind kind, int seed, CancellationToken cancellationToken)
    {
        var normalizer = ml.Transforms.NormalizeMeanVariance("Features").Fit(View(ml, table, truth, rows, label: 0, weights: null));
        var predictors = new List<ITransformer>();
        for (var j = 0; j < truth[0].Length; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var data = normalizer.Transform(View(ml, table, truth, rows, j, weights[j]));
            predictors.Add(Binary(ml, kind, seed, weights[j] is null ? null : FeatureTable.WeightColumn).Fit(data));
        }
        return (normalizer, predictors);
    }

    private static IReadOnlyList<float[]> ProbabilitiesOnFeatures(MLContext ml, MultiLabelFeatureTable table, int[] rows, ITransformer normalizer, IReadOnlyList<ITransformer> predictors)
    {
        var noTruth = Enumerable.Range(0, table.Count).Select(_ => new bool[1]).ToList();
        var data = normalizer.Transform(View(ml, table, noTruth, rows, 0, null));
        var columns = predictors.Select(p => MultiLabelEvaluator.ReadScalars(p.Transform(data), "Probability")).ToList();
        return Enumerable.Range(0, rows.Length).Select(i => columns.Select(c => c[i]).ToArray()).ToList();
    }

    // Features → per label: its predictor, its probability copied aside → the copies concatenated (slot names: the labels) → the predictors' own columns dropped.
    private static ITransformer Compose(MLContext ml, EfficientNetFeaturizerTransformer featurizer, ITransformer normalizer, IReadOnlyList<ITransformer> predictors, IReadOnlyList<string> labels)
    {
        var parts = new List<ITransformer> { featurizer.StockEquivalent, normalizer };
        var schema = normalizer.GetOutputSchema(featurizer.StockEquivalent.GetOutputSchema(ImageClassifierTrainer.InputSchema(ml)));
        for (var j = 0; j < predictors.Count; j++)
        {
            schema = predictors[j].GetOutputSchema(schema);
            var copy = ml.Transforms.CopyColumns(labels[j], "Probability").Fit(EmptyOf(ml, schema));
            parts.Add(predictors[j]);
            parts.Add(copy);
            schema = copy.GetOutputSchema(schema);
        }
        var concat = ml.Transforms.Concatenate(ProbabilityColumn, [.. labels]).Fit(EmptyOf(ml, schema));
        schema = concat.GetOutputSchema(schema);
        var drop = ml.Transforms.DropColumns([.. labels, "Score", "PredictedLabel"]).Fit(EmptyOf(ml, schema));
        parts.Add(concat);
        parts.Add(drop);
        return new TransformerChain<ITransformer>([.. parts]);
    }

    private static IDataView EmptyOf(MLContext ml, DataViewSchema schema) => new EmptyDataView(schema);

    private static IEstimator<ITransformer> Binary(MLContext ml, TrainerKind kind, int seed, string? weight)
    {
        var b = ml.BinaryClassification.Trainers;
        return kind switch
        {
            TrainerKind.Lbfgs => b.LbfgsLogisticRegression(labelColumnName: "Label", featureColumnName: "Features", exampleWeightColumnName: weight),
            // SDCA's automatic iteration count runs for minutes on small, wide embedding tables.
            TrainerKind.Sdca => b.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
            {
                LabelColumnName = "Label", FeatureColumnName = "Features", ExampleWeightColumnName = weight, MaximumNumberOfIterations = 50, NumberOfThreads = 1,
            }),
            TrainerKind.LightGbm => b.LightGbm(new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = "Label", FeatureColumnName = "Features", ExampleWeightColumnName = weight,
                NumberOfIterations = 100, MinimumExampleCountPerLeaf = 2, Seed = seed, NumberOfThreads = 1,
            }),
            TrainerKind.FastTree => b.FastTree(new FastTreeBinaryTrainer.Options
            {
                LabelColumnName = "Label", FeatureColumnName = "Features", ExampleWeightColumnName = weight,
                NumberOfTrees = 100, NumberOfLeaves = 2, LearningRate = 0.2, MinimumExampleCountPerLeaf = 2, NumberOfThreads = 1,
            }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static IDataView View(MLContext ml, MultiLabelFeatureTable table, IReadOnlyList<bool[]> truth, int[] rows, int label, (double Positive, double Negative)? weights)
    {
        var data = rows.Select(i => new Row
        {
            Features = table.Features[i],
            Label = truth[i][label],
            Weight = weights is { } w ? (float)(truth[i][label] ? w.Positive : w.Negative) : 1f,
        }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, table.Dimension);
        return ml.Data.LoadFromEnumerable(data, schema);
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
        public float Weight { get; set; }
    }

    private sealed class EmptyDataView(DataViewSchema schema) : IDataView
    {
        public bool CanShuffle => false;
        public DataViewSchema Schema { get; } = schema;
        public long? GetRowCount() => 0;
        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => throw new NotSupportedException("Only the schema is used.");
        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => throw new NotSupportedException("Only the schema is used.");
    }
}
