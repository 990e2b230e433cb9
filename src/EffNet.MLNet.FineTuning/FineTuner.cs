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
        var labels = images.Select(i => i.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (labels.Count < 2) throw new ArgumentException("Fine-tuning needs images of at least two labels.", nameof(images));
        var index = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);

        var architecture = EfficientNetArchitecture.For(variant);
        var p = torchvisionWeights is null
            ? NetworkParameters.FromFolded(architecture, RandomWeights.Create(architecture, options.Seed), labels.Count, options.Seed)
            : NetworkParameters.FromTorchvisionCheckpoint(architecture, torchvisionWeights, labels.Count, options.Seed);
        var optimizer = CreateOptimizer(options);
        var checkpoint = CheckpointPath(weightsOut);
        var history = resume && File.Exists(checkpoint) ? FineTuneCheckpoint.Load(checkpoint, p, optimizer) : [];
        if (resume && !File.Exists(checkpoint))
            throw new FileNotFoundException($"--resume: there is no checkpoint '{checkpoint}' to continue from.", checkpoint);

        var labelled = images.Select(i => (i.ImagePath, index[i.Label])).ToList();
        ITrainingBatches batches = options.Augmentation == Augmentation.None
            ? new DecodedImageBatches(labelled, options.Resolution, options.BatchSize, options.Seed, shuffle: true, DecodedImageBatches.ServingSide(variant, options.Resolution))
            : new AugmentedBatches(labelled, options.Resolution, options.BatchSize, options.Augmentation, options.Seed);
        var pixels = new float[options.BatchSize * 3 * options.Resolution * options.Resolution];
        var batchLabels = new long[options.BatchSize];
        if (torchvisionWeights is null && history.Count == 0)
        {
            // A random start gets batch-norm statistics from the first batch (a resumed one has them in its checkpoint).
            batches.Fill(0, 0, pixels, batchLabels);
            BatchNormCalibration.Calibrate(p, pixels, batches.Size(0), options.Resolution);
        }
        var graph = TrainingGraphBuilder.Build(p, options.Unfreeze, options.Resolution, options.LabelSmoothing);
        using var session = new TrainingSession(graph, p, options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        var schedule = new LearningRateSchedule(options.LearningRate, options.WarmupEpochs * batches.Count, options.Epochs * batches.Count);
        var logits = new float[options.BatchSize * labels.Count];
        var started = Stopwatch.StartNew();

        for (var epoch = history.Count; epoch < options.Epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            double lossSum = 0;
            int correct = 0, seen = 0;
            for (var b = 0; b < batches.Count; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var n = batches.Size(b);
                batches.Fill(epoch, b, pixels, batchLabels);
                var loss = session.Run(pixels, batchLabels, n, logits);
                if (!float.IsFinite(loss))
                    throw new InvalidOperationException($"The loss became {loss} at epoch {epoch + 1}; lower the learning rate (--lr).");
                optimizer.Step(p, session.Gradients, graph.Trainable, schedule.At(optimizer.Steps));
                lossSum += loss * n;
                seen += n;
                for (var i = 0; i < n; i++)
                    if (ArgMax(logits.AsSpan(i * labels.Count, labels.Count)) == batchLabels[i]) correct++;
            }
            var seconds = watch.Elapsed.TotalSeconds;
            var remaining = seconds * (options.Epochs - epoch - 1);
            var record = new FineTuneEpoch(epoch + 1, lossSum / seen, (double)correct / seen, seen / seconds, seconds, remaining);
            history.Add(record);
            FineTuneCheckpoint.Save(checkpoint, p, optimizer, history);
            progress?.Report(record);
            if (options.TimeBudget is { } budget && started.Elapsed + TimeSpan.FromSeconds(seconds) > budget) break;
        }
        StateDictWriter.WriteTorchvision(weightsOut, p);
        return history;
    }

    /// <summary>The per-epoch checkpoint written beside the fine-tuned weights.</summary>
    public static string CheckpointPath(string weightsOut) => weightsOut + ".checkpoint";

    /// <summary>
    /// Bytes a run needs, roughly: the activations the backward pass keeps (about four float
    /// tensors per convolution output) for a batch, plus parameters, gradients and optimizer state.
    /// </summary>
    public static long EstimateMemoryBytes(EfficientNetVariant variant, FineTuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(options);
        var architecture = EfficientNetArchitecture.For(variant);
        long activations = 0;
        var size = options.Resolution;
        foreach (var layer in architecture.ConvLayers)
        {
            if (layer.Role is ConvRole.SqueezeReduce or ConvRole.SqueezeExpand) continue;
            size = layer.OutputSize(size);
            activations += (long)layer.OutChannels * size * size;
        }
        var parameters = ArchitectureCost.Parameters(architecture, 0);
        return 4L * (4 * activations * options.BatchSize + 4 * parameters) + (64L << 20);
    }

    private static Optimizer CreateOptimizer(FineTuneOptions o) => o.Optimizer.ToLowerInvariant() switch
    {
        "adamw" => new AdamW(0.9, 0.999, 1e-8, o.WeightDecay),
        "sgd" => new Sgd(o.Momentum, o.WeightDecay),
        _ => throw new ArgumentException($"Unknown optimizer '{o.Optimizer}'; use adamw or sgd."),
    };

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
