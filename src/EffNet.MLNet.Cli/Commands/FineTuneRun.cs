using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Training;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>
/// <c>effnet train --fine-tune</c>: fine-tune the backbone (weights beside the model as a
/// torchvision state_dict, <c>NAME.finetuned.safetensors</c>), then run the ordinary training on
/// the features of the fine-tuned backbone, so the saved .zip is the usual stock chain.
/// </summary>
internal static class FineTuneRun
{
    /// <summary>What is wrong with the fine-tuning options, or null.</summary>
    public static string? Problem(TrainCommand.Settings s)
    {
        if (s.IsAutomaticVariant) return "--fine-tune trains one variant; name it with --variant (b0, b1, …) instead of auto.";
        if (FineTuning.Unfreeze.TryParse(s.Unfreeze) is null)
            return $"--unfreeze must be head, top:K (K from 1 to {Architecture.EfficientNetFamily.B0Stages.Count}, the stages) or all, not '{s.Unfreeze}'.";
        if (s.Epochs is < 1 or > 10_000) return $"--epochs must lie in [1, 10000], not {s.Epochs}.";
        if (s.Resolution is < 32 or > 1024) return $"--resolution must lie in [32, 1024], not {s.Resolution}.";
        if (s.FineTuneBatch is < 1 or > 1024) return $"--fine-tune-batch must lie in [1, 1024], not {s.FineTuneBatch}.";
        if (!(s.LearningRate > 0 && s.LearningRate < 10)) return $"--lr must lie in (0, 10), not {s.LearningRate}.";
        if (s.Optimizer is not ("adamw" or "sgd")) return $"--optimizer must be adamw or sgd, not '{s.Optimizer}'.";
        if (s.Augment is not ("none" or "light" or "strong")) return $"--augment must be none, light or strong, not '{s.Augment}'.";
        if (!(s.DropPath >= 0 && s.DropPath < 1)) return $"--drop-path must lie in [0, 1), not {s.DropPath}.";
        if (!(s.Dropout >= 0 && s.Dropout < 1)) return $"--dropout must lie in [0, 1), not {s.Dropout}.";
        if (s.Patience is < 0 or > 10_000) return $"--patience must lie in [0, 10000], not {s.Patience}.";
        // The training graph reads torchvision's tensor names; a timm checkpoint would be refused later, or read as another family's.
        if (s.WeightsFamily is not ("auto" or "torchvision"))
            return $"--fine-tune reads torchvision checkpoints (--weights-family torchvision or auto), not --weights-family {s.WeightsFamily}.";
        return FamilyProblem(s.Variant);
    }

    // V2 and Lite have no training graph: say so before any image is read or weights downloaded.
    private static string? FamilyProblem(string variant)
    {
        EfficientNetVariant parsed;
        try { parsed = EfficientNetVariant.Parse(variant); }
        catch (ArgumentException) { return null; }   // the variant's own check names it
        try { FineTuner.RefuseUnsupportedFamily(parsed); }
        catch (ArgumentException e) { return e.Message.Split(" (Parameter", 2)[0]; }
        return null;
    }

    // The fine-tuned weights and an interrupted run's checkpoint are the user's too: neither is replaced without
    // --force, and the start weights are never the file this run writes.
    private static void RefuseToLoseFiles(TrainCommand.Settings s, string weights)
    {
        if (s.Weights is not null && string.Equals(Path.GetFullPath(s.Weights), weights, StringComparison.Ordinal))
            throw new ArgumentException($"--weights '{s.Weights}' is the file this run would write its fine-tuned weights to; choose another --out.");
        if (s.Resume) return;
        var checkpoint = FineTuner.CheckpointPath(weights);
        if (s.Force)
        {
            File.Delete(checkpoint);   // starting over was asked for: a later --resume must not find the old run
            return;
        }
        if (File.Exists(checkpoint))
            throw new ArgumentException($"'{checkpoint}' holds an interrupted fine-tuning run; pass --resume to continue it, or --force to start over.");
        ModelFiles.RefuseOverwrite([weights], force: false);
    }

    public static string WeightsPath(string output) => Path.ChangeExtension(output, null) + ".finetuned.safetensors";

    public static int Execute(TrainCommand.Settings s, string output, CancellationToken cancellationToken)
    {
        var quiet = s.Quiet || s.Json;
        var weights = WeightsPath(output);
        RefuseToLoseFiles(s, weights);
        // Every image decoded once before training: a damaged one found in epoch 7 would end the run there. Fine-tuning
        // decodes strictly, so a truncated image the head may use (--accept-truncated) is left out of it, saying so.
        var (screened, bad, truncated) = BadImages.Screen(ImageDataset.Load(s.Data!), i => i.ImagePath, s.FailOnBadImage, s.AcceptTruncated);
        BadImages.Print(bad);
        var truncatedPaths = truncated.Select(t => t.ImagePath).ToHashSet(StringComparer.Ordinal);
        BadImages.WarnLeftOutOfFineTuning(truncated);
        var images = screened.Where(i => !truncatedPaths.Contains(i.ImagePath)).ToList();
        if (images.Count == 0) throw new InvalidDataException($"None of the images under '{s.Data}' can be read.");

        var variant = EfficientNetVariant.Parse(s.Variant);
        FineTuner.RefuseUnsupportedFamily(variant); // before any download
        var start = s.RandomInit ? null
            : s.Weights is not null ? Path.GetFullPath(s.Weights)
            : Catalog.PretrainedCatalog.Default.EnsureWeights(variant.Name, null, cancellationToken);
        // One --class-weights for the loss and the head: the same rule, the same weights.
        var (classWeighting, classWeights, recordedClassWeights) = ClassWeightsOption.Parse(s.ClassWeights);
        var options = new FineTuneOptions
        {
            Unfreeze = FineTuning.Unfreeze.TryParse(s.Unfreeze)!,
            Epochs = s.Epochs,
            Augmentation = s.Augment switch { "light" => Augmentation.Light, "strong" => Augmentation.Strong, _ => Augmentation.None },
            HorizontalFlip = s.Flip,
            Resolution = s.Resolution,
            BatchSize = s.FineTuneBatch,
            LearningRate = s.LearningRate,
            Optimizer = s.Optimizer,
            Seed = s.Seed,
            RandomStartSeed = s.InitSeed,
            TimeBudget = s.TimeBudget is { } t ? TimeSpan.FromSeconds(t) : null,
            TrainBatchNorm = s.TrainBatchNorm ? true : null,
            DropPathRate = s.DropPath,
            DropoutRate = s.Dropout,
            ClassWeighting = classWeighting,
            ClassWeights = classWeights,
            // The head's split (same fraction and seed): its validation images are never trained on.
            ValidationFraction = s.ValidationFraction,
            Patience = s.Patience,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var inv = CultureInfo.InvariantCulture;
        // A batch larger than the images is never filled: the memory is that of the batches the run will make.
        var memory = FineTuner.EstimateMemoryBytes(variant, options with { BatchSize = Math.Min(options.BatchSize, images.Count) }, randomStart: start is null);
        void Say(string line)
        {
            if (!quiet) AnsiConsole.MarkupLine(Markup.Escape(line));
        }
        Say(string.Create(inv, $"Fine-tuning {variant} ({options.Unfreeze}) on {images.Count} images at {options.Resolution} px, batch {options.BatchSize}, {options.Optimizer} lr {options.LearningRate:g3}, {options.Epochs} epochs; needs about {memory / (1024.0 * 1024):0} MiB."));
        var progress = new SyncProgress<FineTuneEpoch>(e => Say(string.Create(inv,
            $"epoch {e.Epoch}/{options.Epochs}: loss {e.Loss:0.0000}, accuracy {e.Accuracy:0.000}{Validation(e)}, {e.ImagesPerSecond:0.0} images/s, ETA {TimeSpan.FromSeconds(e.RemainingSeconds):hh\\:mm\\:ss}")));
        IReadOnlyList<FineTuneEpoch> history;
        try
        {
            history = FineTuner.Run(images, variant, start, options, weights, s.Resume, progress, cancellationToken);
        }
        catch (ArgumentException e) when (e is not ArgumentNullException)
        {
            // The library's message without its "(Parameter 'images')" tail, which names no flag.
            throw new InvalidDataException(e.Message.Split(" (Parameter '", 2)[0]);
        }
        catch (OperationCanceledException) when (File.Exists(FineTuner.CheckpointPath(weights)))
        {
            Console.Error.WriteLine($"The last whole epoch is kept in {FineTuner.CheckpointPath(weights)}; run the same command with --resume to continue.");
            throw;
        }
        Say($"Fine-tuned weights saved to {weights}; training the head on their features.");

        var backbone = new BackboneSettings
        {
            Variant = s.Variant, Weights = weights, WeightsFamily = "torchvision", BatchSize = s.BatchSize,
            OnBadImage = s.OnBadImage, AcceptTruncated = s.AcceptTruncated, Preprocess = s.Preprocess, Precision = s.Precision, Calibration = s.Calibration,
            Int8Target = s.Int8Target, Int8MaxFloat = s.Int8MaxFloat,
            ResolutionOverride = options.Resolution,
        };
        var backboneOptions = backbone.ToOptions();
        int code;
        try
        {
            code = TrainingRun.Execute(
                new TrainingRun.Request(s.Data!, output, backboneOptions, s.Trainer, s.ValidationFraction, s.Seed, null, s.Quiet, s.Json,
                    FailOnBadImage: s.FailOnBadImage, ClassWeights: s.ClassWeights),
                (quietly, dataImages) => backbone.ResolveBackbone(quietly, dataImages), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopped while the head trained: the fine-tuning itself is done and kept, not "nothing written".
            Console.Error.WriteLine($"The fine-tuned weights are kept in {weights}; run the same command with --resume to train the head on them.");
            throw;
        }
        if (code != ExitCodes.Success) return code;
        RecordInReport(ModelFiles.ReportPath(output), options, FineTuner.TrainsBatchNorm(options, randomStart: start is null), s.Augment, start, weights, history, recordedClassWeights);
        File.Delete(FineTuner.CheckpointPath(weights));
        return code;
    }

    // model.json is the library's report; the fine-tuning settings and history go in beside its
    // fields (readers of the report ignore what they do not know).
    private static void RecordInReport(string reportPath, FineTuneOptions o, bool trainsBatchNorm, string augment, string? start, string weights, IReadOnlyList<FineTuneEpoch> history, string recordedClassWeights)
    {
        var report = JsonNode.Parse(File.ReadAllText(reportPath))!.AsObject();
        report["fineTuning"] = JsonSerializer.SerializeToNode(new
        {
            unfreeze = o.Unfreeze.ToString(),
            epochs = o.Epochs,
            resolution = o.Resolution,
            batchSize = o.BatchSize,
            optimizer = o.Optimizer,
            learningRate = o.LearningRate,
            weightDecay = o.WeightDecay,
            labelSmoothing = o.LabelSmoothing,
            warmupEpochs = o.WarmupEpochs,
            augment,
            horizontalFlip = o.HorizontalFlip,
            batchNorm = trainsBatchNorm ? "trained (batch statistics, running statistics updated with momentum 0.1)" : "frozen (evaluation mode; scale and shift trained)",
            dropPath = o.DropPathRate,
            dropout = o.DropoutRate,
            classWeights = recordedClassWeights,
            validationFraction = o.ValidationFraction,
            patience = o.Patience,
            chosenEpoch = history.LastOrDefault(e => e.Improved)?.Epoch ?? history.Count,
            startWeights = start ?? $"random(seed={o.RandomStartSeed})",
            weights = Path.GetFileName(weights),
            history = history.Select(e => new
            {
                epoch = e.Epoch, loss = e.Loss, accuracy = e.Accuracy, validationLoss = e.ValidationLoss, validationAccuracy = e.ValidationAccuracy,
                imagesPerSecond = e.ImagesPerSecond, seconds = e.Seconds,
            }),
        });
        AtomicFile.WriteAllText(reportPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static string Validation(FineTuneEpoch e) => e.ValidationLoss is { } loss
        ? string.Create(CultureInfo.InvariantCulture, $"; validation loss {loss:0.0000}, accuracy {e.ValidationAccuracy:0.000}{(e.Improved ? " (best so far)" : "")}")
        : "";

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
