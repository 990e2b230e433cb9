using EffNet.MLNet.Training;

namespace EffNet.MLNet.Sweep;

/// <summary>Options of <see cref="SweepRunner.Run"/>.</summary>
public sealed record SweepOptions
{
    /// <summary>The variants to compare (<c>b0</c>…<c>b7</c>, <c>phi=X</c>, <c>w=W,d=D,r=R</c>); they run smallest first. Default: b0, b1, b2, b3.</summary>
    public IReadOnlyList<string> Variants { get; init; } = ["b0", "b1", "b2", "b3"];

    /// <summary>
    /// Seeded random weights instead of pretrained ones. The machinery runs the same, but the
    /// accuracies then say nothing about how pretrained variants compare on the data.
    /// </summary>
    public bool RandomInit { get; init; }

    /// <summary>Seed of the random weights.</summary>
    public int WeightsSeed { get; init; }

    /// <summary>
    /// A folder of checkpoints, one per variant, named as torchvision or timm publish them
    /// (<c>efficientnet_b0_rwightman-3dd342df.pth</c>, <c>efficientnet_b1….safetensors</c>). Default: the
    /// pretrained catalog (downloaded once into <c>EFFNET_HOME</c>).
    /// </summary>
    public string? WeightsDirectory { get; init; }

    /// <summary><c>fp32</c> (default) or <c>int8</c>: the precision features and costs are computed at.</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>With int8: the target each variant's int8 check must meet (see <see cref="EfficientNetFeaturizerOptions.Int8Target"/>). Default: null, the library's.</summary>
    public Int8Target? Int8Target { get; init; }

    /// <summary>Folds of the stratified cross-validation. Default: 5.</summary>
    public int Folds { get; init; } = 5;

    /// <summary>Seed of the folds and the trainer.</summary>
    public int Seed { get; init; }

    /// <summary>How the probe weights images by class, as training does. Default: <see cref="ClassWeighting.Auto"/>.</summary>
    public ClassWeighting ClassWeighting { get; init; } = ClassWeighting.Auto;

    /// <summary>Explicit weight per label; when set, <see cref="ClassWeighting"/> is not used.</summary>
    public IReadOnlyDictionary<string, double>? ClassWeights { get; init; }

    /// <summary>The linear probe fitted on each fold. Default: L-BFGS maximum entropy.</summary>
    public TrainerKind Trainer { get; init; } = TrainerKind.Lbfgs;

    /// <summary>
    /// Stop adding larger variants once this much time is spent, and skip a variant whose
    /// estimated featurization would not fit in what is left. Default: none.
    /// </summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>Recommend the most accurate variant at or under this many milliseconds per image, instead of the smallest within the fold noise of the best.</summary>
    public double? MaxMillisecondsPerImage { get; init; }

    /// <summary>Every variant at this crop instead of its own resolution (quick trials). Default: each variant's own.</summary>
    public int? Resolution { get; init; }

    /// <summary>Images per ONNX Runtime run while featurizing, and the batch the throughput is measured at. Default: 16.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Timed single-image runs per variant (after two warm-up runs). Default: 20.</summary>
    public int TimedRuns { get; init; } = 20;

    /// <summary>
    /// Core-milliseconds one image costs per billion multiply-adds, used to estimate a variant's
    /// featurization before any variant is measured (afterwards the last measured rate is used).
    /// Default: 25 (B0 in fp32 with decoding on a 2-core EPYC is about 10).
    /// </summary>
    public double EstimatedCoreMillisecondsPerGigaMac { get; init; } = 25;

    /// <summary>Skip unusable images (named in <see cref="SweepResult.BadImages"/>) instead of stopping at the first.</summary>
    public bool SkipBadImages { get; init; } = true;

    /// <summary>Featurize truncated images from the rows that are there (see <see cref="EfficientNetFeaturizerOptions.AcceptTruncatedImages"/>).</summary>
    public bool AcceptTruncatedImages { get; init; }

    /// <summary>Folder of the feature cache. Default: <see cref="FeatureCache.DefaultRoot"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Told, in one line, what the feature cache discarded.</summary>
    public Action<string>? OnCacheWarning { get; init; }

    /// <summary>The bounded sweep <c>effnet train --variant auto</c> runs: b0 to b3, 3 folds, at most 10 minutes.</summary>
    public static SweepOptions ForAutomaticVariant => new() { Folds = 3, TimeBudget = TimeSpan.FromMinutes(10) };
}
