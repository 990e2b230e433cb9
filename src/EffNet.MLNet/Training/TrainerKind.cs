using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace EffNet.MLNet.Training;

/// <summary>The multiclass trainers offered on top of the features.</summary>
public enum TrainerKind
{
    /// <summary>SdcaMaximumEntropy: linear, fast, the default; the model loads with stock ML.NET alone.</summary>
    Sdca,
    /// <summary>LbfgsMaximumEntropy: linear; the model loads with stock ML.NET alone.</summary>
    Lbfgs,
    /// <summary>LightGbm multiclass; loading the model needs Microsoft.ML.LightGbm.</summary>
    LightGbm,
    /// <summary>FastTree one-versus-all; loading the model needs Microsoft.ML.FastTree.</summary>
    FastTree,
}

/// <summary>Creates trainers on the <c>Label</c> (key) and <c>Features</c> columns.</summary>
public static class Trainers
{
    /// <summary>Every kind, in the order <c>auto</c> tries them.</summary>
    public static readonly IReadOnlyList<TrainerKind> All = [TrainerKind.Sdca, TrainerKind.Lbfgs, TrainerKind.LightGbm, TrainerKind.FastTree];

    /// <summary>
    /// A fresh trainer of the given kind, behind a mean-variance normaliser of the features
    /// (linear trainers converge slowly, or not at all, on unscaled embeddings).
    /// </summary>
    public static IEstimator<ITransformer> Create(MLContext ml, TrainerKind kind, int seed = 0) => Create(ml, kind, seed, exampleWeightColumn: null);

    /// <summary>As <see cref="Create(MLContext, TrainerKind, int)"/>, each row weighted by <paramref name="exampleWeightColumn"/> when it is given (every kind takes one).</summary>
    internal static IEstimator<ITransformer> Create(MLContext ml, TrainerKind kind, int seed, string? exampleWeightColumn)
    {
        ArgumentNullException.ThrowIfNull(ml);
        return ml.Transforms.NormalizeMeanVariance("Features").Append(Trainer(ml, kind, seed, exampleWeightColumn));
    }

    private static IEstimator<ITransformer> Trainer(MLContext ml, TrainerKind kind, int seed, string? weight)
    {
        var m = ml.MulticlassClassification.Trainers;
        return kind switch
        {
            // SDCA's automatic iteration count runs for minutes on small, wide embedding tables.
            TrainerKind.Sdca => m.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = "Label",
                FeatureColumnName = "Features",
                ExampleWeightColumnName = weight,
                MaximumNumberOfIterations = 50,
                NumberOfThreads = 1,
            }),
            TrainerKind.Lbfgs => m.LbfgsMaximumEntropy(labelColumnName: "Label", featureColumnName: "Features", exampleWeightColumnName: weight),
            TrainerKind.LightGbm => m.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                LabelColumnName = "Label",
                FeatureColumnName = "Features",
                ExampleWeightColumnName = weight,
                NumberOfIterations = 100,
                MinimumExampleCountPerLeaf = 2,
                Seed = seed,
                NumberOfThreads = 1, // deterministic results
            }),
            TrainerKind.FastTree => m.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                LabelColumnName = "Label",
                FeatureColumnName = "Features",
                ExampleWeightColumnName = weight,
                // Boosted stumps: on tens of images a class, deeper trees memorise the training rows.
                NumberOfTrees = 100,
                NumberOfLeaves = 2,
                LearningRate = 0.2,
                MinimumExampleCountPerLeaf = 2,
                NumberOfThreads = 1,
            }), labelColumnName: "Label"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>Parse <c>sdca</c>, <c>lbfgs</c>, <c>lightgbm</c> or <c>fasttree</c>.</summary>
    public static TrainerKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "sdca" => TrainerKind.Sdca,
        "lbfgs" => TrainerKind.Lbfgs,
        "lightgbm" => TrainerKind.LightGbm,
        "fasttree" => TrainerKind.FastTree,
        _ => throw new ArgumentException($"Unknown trainer '{name}'; use auto, sdca, lbfgs, lightgbm or fasttree."),
    };
}
