using System.Diagnostics;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning.Graph;
using EffNet.MLNet.FineTuning.Optimization;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// Fine-tunes an EfficientNet on labelled images: the training step is an ONNX graph emitted
/// from the architecture and run by ONNX Runtime; weights and the optimizer live in C#. The
/// result is a torchvision state_dict (.safetensors) that the ordinary featurizer loads with
/// <c>WeightsPath</c>, so the model built on it is the usual stock ML.NET chain.
/// </summary>
public static class FineTuner
{
    /// <summary>
    /// Train and write the fine-tuned weights to <paramref name="weightsOut"/>; a checkpoint is
    /// written beside it after each epoch (<see cref="CheckpointPath"/>).
    /// </summary>
    /// <param name="images">Training images with their labels.</param>
    /// <param name="variant">The network.</param>
    /// <param name="torchvisionWeights">A torchvision checkpoint to start from, or null for seeded random weights.</param>
    /// <param name="options">How to train.</param>
    /// <param name="weightsOut">Where the fine-tuned state_dict goes.</param>
    /// <param name="resume">Continue from the checkpoint beside <paramref name="weightsOut"/>.</param>
    /// <param name="progress">Told after each epoch.</param>
    /// <param name="cancellationToken">Stops after the current batch; the last whole epoch's checkpoint stays.</param>
    /// <returns>The epoch history, resumed epochs included.</returns>
    /// <exception cref="OperationCanceledException">Cancelled; nothing but the checkpoint was written.</exception>
    public static IReadOnlyList<FineTuneEpoch> Run(IReadOnlyList<LabeledImage> images, EfficientNetVariant variant, string? torchvisionWeights,
        FineTuneOptions options, string weightsOut, bool resume = false, IProgress<FineTuneEpoch>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(weightsOut);
        RefuseUnsupportedFamily(variant);
        TrainsBatchNorm(options, randomStart: torchvisionWeights is null);
        var labels = images.Select(i => i.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (labels.Count < 2) throw new ArgumentException("Fine-tuning needs images of at least two labels.", nameof(images));
        var index = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);

        var architecture = EfficientNetArchitecture.For(variant);
        var p = torchvisionWeights is null
            ? NetworkParameters.FromFolded(architecture, RandomWeights.Create(architecture, options.RandomStartSeed), labels.Count, options.Seed)
            : NetworkParameters.FromTorchvisionCheckpoint(architecture, torchvisionWeights, labels.Count, options.Seed);
        var optimizer = CreateOptimizer(options);
        var checkpoint = CheckpointPath(weightsOut);
        string? resumedSettings = null;
        var history = resume && File.Exists(checkpoint) ? FineTuneCheckpoint.Load(checkpoint, p, optimizer, out resumedSettings) : [];
        if (resume && !File.Exists(checkpoint))
            throw new FileNotFoundException($"--resume: there is no checkpoint '{checkpoint}' to continue from.", checkpoint);

        var labelled = images.Select(i => (i.ImagePath, index[i.Label])).ToList();
        // The same stratified split, for the same fraction and seed, as the head's training (StratifiedSplit).
        var (trainIndices, validationIndices) = StratifiedSplit.Split(images.Select(i => i.Label).ToList(), options.ValidationFraction, options.Seed);
        if (options.ValidationFraction > 0 && (validationIndices.Length == 0 || trainIndices.Length == 0))
            throw new ArgumentException($"--validation-fraction {options.ValidationFraction} leaves {trainIndices.Length} training and {validationIndices.Length} validation images; both need at least one.");
        if (options.Patience < 0) throw new ArgumentException($"The patience must be 0 (off) or more epochs, not {options.Patience}.");
        var training = trainIndices.Select(i => labelled[i]).ToList();
        var validation = validationIndices.Select(i => labelled[i]).ToList();
        ITrainingBatches batches = options.Augmentation == Augmentation.None
            ? new DecodedImageBatches(training, options.Resolution, options.BatchSize, options.Seed, shuffle: true, DecodedImageBatches.ServingSide(variant, options.Resolution), options.HorizontalFlip)
            : new AugmentedBatches(training, options.Resolution, options.BatchSize, options.Augmentation, options.Seed, options.HorizontalFlip);
        var pixels = new float[options.BatchSize * 3 * options.Resolution * options.Resolution];
        var batchLabels = new long[options.BatchSize];
        var graphOptions = new TrainingGraphOptions
        {
            LabelSmoothing = options.LabelSmoothing,
            TrainBatchNorm = TrainsBatchNorm(options, randomStart: torchvisionWeights is null),
            DropPathRate = options.DropPathRate,
            DropoutRate = options.DropoutRate,
            ClassWeights = LossWeights(options, labels, training.Select(t => t.Item2)),
        };
        var settings = ResumeSettings.Of(options, graphOptions, labels, randomStart: torchvisionWeights is null);
        ResumeSettings.Check(checkpoint, resumedSettings, settings, history.Count, options.Epochs);
        var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        var graph = TrainingGraphBuilder.Build(p, options.Unfreeze, options.Resolution, graphOptions);
        using var session = new TrainingSession(graph, p, threads);
        var masks = new DropPathMasks(graph, options.BatchSize, options.Seed);
        var dropout = graph.Dropout is { } d ? new ClassifierDropoutMask(d, options.BatchSize, options.Seed) : null;
        using var evaluation = validation.Count == 0 ? null : new Evaluation(
            TrainingGraphBuilder.Build(p, options.Unfreeze, options.Resolution, graphOptions with { Gradients = false, TrainBatchNorm = false, DropPathRate = 0, DropoutRate = 0 }),
            p, threads, new DecodedImageBatches(validation, options.Resolution, options.BatchSize, options.Seed, shuffle: false, DecodedImageBatches.ServingSide(variant, options.Resolution)));
        var schedule = new LearningRateSchedule(options.LearningRate, options.WarmupEpochs * batches.Count, options.Epochs * batches.Count);
        var logits = new float[options.BatchSize * labels.Count];
        var started = Stopwatch.StartNew();

        for (var epoch = history.Count; epoch < options.Epochs; epoch++)
        {
            if (evaluation is not null && options.Patience > 0 && SinceBest(history) >= options.Patience) break;
            var watch = Stopwatch.StartNew();
            double lossSum = 0;
            int correct = 0, seen = 0;
            for (var b = 0; b < batches.Count; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var n = batches.Size(b);
                batches.Fill(epoch, b, pixels, batchLabels);
                var loss = session.Run(pixels, batchLabels, n, logits, dropPathMasks: masks.Draw(epoch, b, n), dropoutMask: dropout?.Draw(epoch, b, n));
                if (!float.IsFinite(loss))
                    throw Diverged("training", loss, epoch);
                optimizer.Step(p, session.Gradients, graph.Trainable, schedule.At(optimizer.Steps));
                BatchNormStatistics.Update(p, graph, session, n);
                lossSum += loss * n;
                seen += n;
                for (var i = 0; i < n; i++)
                    if (ArgMax(logits.AsSpan(i * labels.Count, labels.Count)) == batchLabels[i]) correct++;
            }
            var seconds = watch.Elapsed.TotalSeconds;
            var remaining = seconds * (options.Epochs - epoch - 1);
            var record = new FineTuneEpoch(epoch + 1, lossSum / seen, (double)correct / seen, seen / seconds, seconds, remaining);
            if (evaluation is not null)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (validationLoss, validationAccuracy) = evaluation.Run(pixels, batchLabels, logits);
                if (!double.IsFinite(validationLoss)) throw Diverged("validation", validationLoss, epoch);
                var improved = !history.Any(h => h.ValidationLoss <= validationLoss);
                record = record with { ValidationLoss = validationLoss, ValidationAccuracy = validationAccuracy, Improved = improved };
                // The best epoch's weights are the output; written now, a resumed run finds them in place.
                if (improved) StateDictWriter.WriteTorchvision(weightsOut, p);
            }
            history.Add(record);
            FineTuneCheckpoint.Save(checkpoint, p, optimizer, history, settings);
            progress?.Report(record);
            if (options.TimeBudget is { } budget && started.Elapsed + TimeSpan.FromSeconds(seconds) > budget) break;
        }
        if (evaluation is null || !File.Exists(weightsOut) || !history.Any(h => h.Improved)) StateDictWriter.WriteTorchvision(weightsOut, p);
        return history;
    }

    /// <summary>The cross-entropy's weight of each class index, or null: the head trainers' rule on the training images.</summary>
    /// <exception cref="InvalidDataException">An explicit weight is missing, not positive or not finite.</exception>
    internal static float[]? LossWeights(FineTuneOptions options, IReadOnlyList<string> labels, IEnumerable<int> trainingLabels)
    {
        var rows = trainingLabels.Select(i => labels[i]).ToList();
        var weights = ClassWeightRule.Resolve(rows, options.ClassWeighting, options.ClassWeights, "FineTuneOptions.ClassWeights");
        return weights is null ? null : labels.Select(l => weights.TryGetValue(l, out var w) ? (float)w : 0f).ToArray();
    }

    /// <summary>
    /// Whether the trained layers' batch-norm normalises by batch statistics: as asked, else frozen from a
    /// checkpoint and trained from a random start. A random start is the library's random-init featurizer
    /// (<see cref="RandomWeights"/>): a network in its ordered regime, whose activations shrink layer by layer
    /// and whose head is scaled up to unit features. Frozen, one step of 1e-5 on every parameter moves the
    /// logits by ~100 (measured on sample-data, in PyTorch as here); batch statistics renormalise each step.
    /// </summary>
    /// <exception cref="ArgumentException">Frozen batch-norm asked for with a random start.</exception>
    internal static bool TrainsBatchNorm(FineTuneOptions options, bool randomStart)
    {
        if (randomStart && options.TrainBatchNorm == false)
            throw new ArgumentException(
                "A random start cannot fine-tune with frozen batch-norm: its statistics are not a trained network's, and the first steps " +
                "send the loss into the hundreds. Leave TrainBatchNorm unset (random starts train it) or start from pretrained weights.", nameof(options));
        return options.TrainBatchNorm ?? randomStart;
    }

    private static FineTuningDivergedException Diverged(string which, double loss, int epoch) => new(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"The {which} loss became {loss} in epoch {epoch + 1}: the weights diverged. Lower the learning rate; the last whole epoch's checkpoint is kept."));

    private static int SinceBest(IReadOnlyList<FineTuneEpoch> history)
    {
        var best = history.LastOrDefault(h => h.Improved);
        return best is null ? 0 : history.Count - best.Epoch;
    }

    /// <summary>
    /// The training graph walks only the B family's MBConv blocks (SiLU, squeeze-and-excitation); V2's
    /// Fused-MBConv and Lite's ReLU6 have no gradients here, so those variants are refused up front.
    /// </summary>
    internal static void RefuseUnsupportedFamily(EfficientNetVariant variant)
    {
        if (variant.Family != ArchitectureFamily.EfficientNet)
            throw new ArgumentException(
                $"Fine-tuning supports the B family (b0…b7, phi=X, w=W,d=D,r=R), not EfficientNet {variant.Name}: its training graph has no Fused-MBConv or ReLU6 gradients. " +
                $"Train a classifier on {variant.Name}'s features with 'effnet train' instead, or fine-tune a B variant.", nameof(variant));
    }

    /// <summary>The per-epoch checkpoint written beside the fine-tuned weights.</summary>
    public static string CheckpointPath(string weightsOut) => weightsOut + ".checkpoint";

    /// <summary>
    /// Bytes a run needs, roughly (the process's peak resident memory): the runtime and the session, parameters
    /// with their gradients and optimizer state, and the activations the backward pass keeps for a batch: those of
    /// the trained layers, about 5.5 float tensors per convolution output with batch-norm frozen and 9 with it
    /// training (measured: B0, 128 px, batch 16: 992 and 1,456 MiB; top:2, 286 MiB; MemoryEstimateTests), plus the two largest
    /// consecutive outputs of the frozen layers, which the forward pass holds one after another.
    /// </summary>
    /// <param name="variant">The network.</param>
    /// <param name="options">Unfreeze, resolution, batch and batch-norm mode are what count.</param>
    /// <param name="randomStart">No checkpoint: batch-norm then trains unless <see cref="FineTuneOptions.TrainBatchNorm"/> says otherwise.</param>
    public static long EstimateMemoryBytes(EfficientNetVariant variant, FineTuneOptions options, bool randomStart = false)
    {
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(options);
        var architecture = EfficientNetArchitecture.For(variant);
        long kept = 0, frozenPair = 0, previous = 0, trained = 0;
        var size = options.Resolution;
        foreach (var layer in architecture.ConvLayers)
        {
            if (options.Unfreeze.Trains(layer))
                trained += layer.WeightShape.Aggregate(1L, (a, d) => a * d) + (layer.HasBatchNorm ? 2 : 1) * layer.OutChannels;
            if (layer.Role is ConvRole.SqueezeReduce or ConvRole.SqueezeExpand) continue;
            size = layer.OutputSize(size);
            var values = (long)layer.OutChannels * size * size;
            if (options.Unfreeze.Trains(layer)) kept += values;
            else frozenPair = Math.Max(frozenPair, previous + values);
            previous = values;
        }
        var tensorsPerOutput = (options.TrainBatchNorm ?? randomStart) ? 9.0 : 5.5;
        var parameters = ArchitectureCost.Parameters(architecture, 0);
        const long runtime = 150L << 20;   // .NET, ONNX Runtime, the graph and the frozen layers' folded weights
        // Every parameter once; a trained one's gradient and two optimizer moments besides.
        return runtime + 4 * parameters + 4 * 3 * trained + (long)(4 * tensorsPerOutput * kept * options.BatchSize) + 4 * frozenPair * options.BatchSize;
    }

    private static Optimizer CreateOptimizer(FineTuneOptions o) => o.Optimizer.ToLowerInvariant() switch
    {
        "adamw" => new AdamW(0.9, 0.999, 1e-8, o.WeightDecay),
        "sgd" => new Sgd(o.Momentum, o.WeightDecay),
        _ => throw new ArgumentException($"Unknown optimizer '{o.Optimizer}'; use adamw or sgd."),
    };

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
