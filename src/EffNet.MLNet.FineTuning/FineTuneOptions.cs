namespace EffNet.MLNet.FineTuning;

/// <summary>How <see cref="FineTuner"/> trains the backbone.</summary>
public sealed record FineTuneOptions
{
    /// <summary>What trains; default the top two stages, the head convolution and the classifier.</summary>
    public Unfreeze Unfreeze { get; init; } = Unfreeze.Top(2);

    /// <summary>Passes over the training images.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Augmentation of the training images (default none; flips are never applied).</summary>
    public Augmentation Augmentation { get; init; } = Augmentation.None;

    /// <summary>Square training resolution in pixels (the saved model serves at the same).</summary>
    public int Resolution { get; init; } = 128;

    /// <summary>
    /// Mirror each training image left-right with probability 1/2, drawn per (seed, epoch, image). Off by default:
    /// a flip changes the label of a direction, a digit or a text; turn it on where the classes are mirror-symmetric.
    /// </summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>Images per optimizer step.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Peak learning rate, reached after the warm-up and then decayed by cosine to zero.</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary><c>adamw</c> (decoupled weight decay) or <c>sgd</c> (momentum, decay added to the gradient).</summary>
    public string Optimizer { get; init; } = "adamw";

    /// <summary>Weight decay on convolution and linear weights (never on batch-norm or biases).</summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Label smoothing of the cross-entropy.</summary>
    public double LabelSmoothing { get; init; } = 0.1;

    /// <summary>Epochs of linear warm-up.</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Seed of the shuffle and of a new classifier.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// With no checkpoint: the seed of the random start, the random-init featurizer's weights for this seed
    /// (<c>EfficientNetFeaturizerOptions.RandomInit</c> with <c>Seed</c>; the CLI's <c>--weights-seed</c>), so a probe on
    /// those features and the fine-tuning start from the same network.
    /// </summary>
    public int RandomStartSeed { get; init; }

    /// <summary>ONNX Runtime threads; 0 = every core.</summary>
    public int Threads { get; init; }

    /// <summary>Stop after an epoch when one more epoch as long as the last would take the run past this much time.</summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>
    /// True: batch-norm of the trained layers normalises by batch statistics and updates its running
    /// statistics (PyTorch's training mode, momentum 0.1). False: running statistics frozen, scale and
    /// shift trained. Null (the default): frozen from a checkpoint, trained from a random start, which
    /// cannot train frozen (see <see cref="FineTuner.Run"/>). Frozen layers keep evaluation-mode
    /// batch-norm either way.
    /// </summary>
    public bool? TrainBatchNorm { get; init; }

    /// <summary>Stochastic depth: the last block drops its residual branch with about this probability, earlier blocks proportionally less (torchvision's rule); 0 turns it off.</summary>
    public double DropPathRate { get; init; } = 0.2;

    /// <summary>
    /// Dropout before the classifier: each pooled feature is zeroed with this probability during training
    /// (torchvision's EfficientNet-B0 and B1 use 0.2, the recipe's default here); 0 turns it off.
    /// </summary>
    public double DropoutRate { get; init; } = 0.2;

    /// <summary>
    /// Per-class weights of the cross-entropy, by the same rule as the head's trainers
    /// (<see cref="EffNet.MLNet.Training.ClassWeighting"/>): none (default), inverse frequency, or auto
    /// (inverse frequency when the largest class has at least three times the images of the smallest).
    /// </summary>
    public EffNet.MLNet.Training.ClassWeighting ClassWeighting { get; init; } = EffNet.MLNet.Training.ClassWeighting.None;

    /// <summary>Explicit weight by label (every label named); wins over <see cref="ClassWeighting"/>.</summary>
    public IReadOnlyDictionary<string, double>? ClassWeights { get; init; }

    /// <summary>
    /// Share of every label held out (stratified, seeded) to evaluate after each epoch; the saved weights are
    /// those of the epoch with the lowest validation loss. 0 (default) trains on every image and keeps the last epoch.
    /// </summary>
    public double ValidationFraction { get; init; }

    /// <summary>With a validation split: stop after this many epochs without a lower validation loss; 0 never stops early.</summary>
    public int Patience { get; init; }
}
