using Onnx;

namespace EffNet.MLNet.FineTuning.Graph;

/// <summary>
/// One emitted training step: inputs <c>pixels</c> [N, 3, R, R] (RGB 0…255), <c>labels</c> [N]
/// (int64), every trainable tensor under its torchvision name, the running statistics of the
/// trainable batch-norm layers (<see cref="Buffers"/>) and one drop-path mask [N, 1, 1, 1] per
/// residual block that drops (<see cref="DropPaths"/>) and the classifier's dropout mask [N, D] when it drops
/// (<see cref="Dropout"/>); outputs <c>loss</c> (scalar),
/// <c>logits</c> [N, K], <c>features</c> [N, D], <c>NAME@grad</c> for each trainable tensor and,
/// with batch-norm in training mode, each layer's batch mean and biased variance
/// (<see cref="BatchStatistics"/>). Frozen layers are constants inside the graph.
/// </summary>
internal sealed record TrainingGraph(ModelProto Model, IReadOnlyList<string> Trainable, int Resolution, int Classes, int FeatureDimension, bool HasGradients)
{
    public const string Pixels = "pixels";
    public const string Labels = "labels";
    public const string Loss = "loss";
    public const string Logits = "logits";
    public const string Features = "features";

    /// <summary>Running statistics fed to the graph but not trained (evaluation-mode batch-norm of trainable layers).</summary>
    public IReadOnlyList<string> Buffers { get; init; } = [];

    /// <summary>Batch-norm layers normalising by batch statistics, with their output area (S²) per image.</summary>
    public IReadOnlyList<BatchStatisticsLayer> BatchStatistics { get; init; } = [];

    /// <summary>Drop-path mask inputs and the drop probability of each.</summary>
    public IReadOnlyList<DropPathInput> DropPaths { get; init; } = [];

    /// <summary>The classifier's dropout mask input, or null when the graph drops nothing there.</summary>
    public ClassifierDropoutInput? Dropout { get; init; }

    public static string GradientOf(string parameter) => parameter + "@grad";
}

/// <summary>
/// A batch-norm layer in training mode: the graph outputs <see cref="MeanOutput"/> and
/// <see cref="VarianceOutput"/> (biased, over N·<see cref="Area"/> values per channel).
/// </summary>
/// <param name="Prefix">torchvision's module name (<c>features.1.0.block.0.1</c>).</param>
/// <param name="Channels">Channels of the layer.</param>
/// <param name="Area">Output positions per image and channel (S²).</param>
internal sealed record BatchStatisticsLayer(string Prefix, int Channels, int Area)
{
    public string MeanOutput => Prefix + ".batch_mean";

    public string VarianceOutput => Prefix + ".batch_var";

    public string RunningMean => Prefix + ".running_mean";

    public string RunningVariance => Prefix + ".running_var";
}

/// <summary>The per-image keep mask of one residual block (0 or 1/(1 − p)), drawn outside the graph.</summary>
internal sealed record DropPathInput(string Name, int BlockIndex, double Probability);

/// <summary>The classifier's dropout mask [N, <paramref name="Width"/>] (0 or 1/(1 − p) per feature), drawn outside the graph.</summary>
internal sealed record ClassifierDropoutInput(string Name, int Width, double Probability);
