using System.ComponentModel;
using EffNet.MLNet.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class TrainCommand : Command<TrainCommand.Settings>
{
    internal sealed class Settings : BackboneSettings
    {
        [CommandOption("--data <DIR|MANIFEST>")]
        [Description("A folder with one sub-folder per label, or a CSV/TSV manifest of path,label.")]
        public string? Data { get; init; }

        [CommandOption("--features <DIR|FILE>")]
        [Description("Instead of --data: train on stored features, a folder of effnet featurize --shard outputs or a merged .parquet; no image is decoded. Give the backbone options the features were made with.")]
        public string? Features { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("Where to save the model .zip; model.json and the report go beside it.")]
        [DefaultValue("model.zip")]
        public string Out { get; init; } = "model.zip";

        [CommandOption("--trainer <NAME>")]
        [Description("auto, sdca, lbfgs, lightgbm or fasttree. auto tries each and keeps the best validation macro-accuracy.")]
        [DefaultValue("auto")]
        public string Trainer { get; init; } = "auto";

        [CommandOption("--validation-fraction <F>")]
        [Description("Share of every label held out for validation.")]
        [DefaultValue(0.2)]
        public double ValidationFraction { get; init; } = 0.2;

        [CommandOption("--seed <N>")]
        [Description("Seed of the split and the trainers.")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--time-budget <SECONDS>")]
        [Description("With auto: try no further trainer once this many seconds are spent. With --fine-tune: stop after an epoch when one more as long would overrun it.")]
        public double? TimeBudget { get; init; }

        [CommandOption("--class-weights <auto|none|FILE>")]
        [Description(ClassWeightsOption.Description)]
        [DefaultValue("auto")]
        public string ClassWeights { get; init; } = "auto";

        [CommandOption("--multi-label")]
        [Description("--data is a manifest of path,\"label1;label2\" lines: train one classifier per label, each with a threshold chosen on the validation split (see README, Multi-label).")]
        [DefaultValue(false)]
        public bool MultiLabel { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite --out (and its model.json) if they exist.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        [Description("Print only the final metrics line.")]
        [DefaultValue(false)]
        public bool Quiet { get; init; }

        [CommandOption("--json")]
        [Description("Print model.json's content to stdout instead of tables.")]
        [DefaultValue(false)]
        public bool Json { get; init; }

        [CommandOption("--fine-tune")]
        [Description("Fine-tune the backbone first (see docs/FINE-TUNING.md), then train the head on its features as usual.")]
        [DefaultValue(false)]
        public bool FineTune { get; init; }

        [CommandOption("--unfreeze <WHAT>")]
        [Description("With --fine-tune: head, top:K (the last K stages, the head convolution and the classifier) or all.")]
        [DefaultValue("top:2")]
        public string Unfreeze { get; init; } = "top:2";

        [CommandOption("--train-batchnorm")]
        [Description("With --fine-tune: batch-norm of the trained layers normalises by batch statistics and updates its running statistics (PyTorch's training mode). Always on with --random-init (a random start cannot train with frozen statistics); off from pretrained weights unless given.")]
        [DefaultValue(false)]
        public bool TrainBatchNorm { get; init; }

        [CommandOption("--epochs <N>")]
        [Description("With --fine-tune: passes over the training images.")]
        [DefaultValue(10)]
        public int Epochs { get; init; } = 10;

        [CommandOption("--resolution <PIXELS>")]
        [Description("With --fine-tune: training (and serving) resolution.")]
        [DefaultValue(128)]
        public int Resolution { get; init; } = 128;

        [CommandOption("--augment <PRESET>")]
        [Description("With --fine-tune: none, light or strong.")]
        [DefaultValue("none")]
        public string Augment { get; init; } = "none";

        [CommandOption("--flip")]
        [Description("With --fine-tune: mirror training images left-right at random. Off by default: a flip changes the label of a direction, a digit or a text.")]
        public bool Flip { get; init; }

        [CommandOption("--lr <RATE>")]
        [Description("With --fine-tune: peak learning rate (warm-up, then cosine decay).")]
        [DefaultValue(1e-4)]
        public double LearningRate { get; init; } = 1e-4;

        [CommandOption("--optimizer <NAME>")]
        [Description("With --fine-tune: adamw or sgd.")]
        [DefaultValue("adamw")]
        public string Optimizer { get; init; } = "adamw";

        [CommandOption("--fine-tune-batch <N>")]
        [Description("With --fine-tune: images per optimizer step.")]
        [DefaultValue(16)]
        public int FineTuneBatch { get; init; } = 16;

        [CommandOption("--drop-path <RATE>")]
        [Description("With --fine-tune: stochastic depth; the last block drops its residual branch with about this probability (torchvision's rule). 0 turns it off.")]
        [DefaultValue(0.2)]
        public double DropPath { get; init; } = 0.2;

        [CommandOption("--dropout <RATE>")]
        [Description("With --fine-tune: dropout before the classifier, the share of pooled features zeroed each training step (torchvision's B0: 0.2). 0 turns it off.")]
        [DefaultValue(0.2)]
        public double Dropout { get; init; } = 0.2;

        [CommandOption("--patience <EPOCHS>")]
        [Description("With --fine-tune: stop after this many epochs without a lower loss on the --validation-fraction split (0: never stop early). The best epoch's weights are kept either way.")]
        [DefaultValue(0)]
        public int Patience { get; init; }

        [CommandOption("--resume")]
        [Description("With --fine-tune: continue from the checkpoint of an interrupted run with the same --out.")]
        [DefaultValue(false)]
        public bool Resume { get; init; }

        /// <summary>--variant auto: a bounded sweep picks the variant.</summary>
        public bool IsAutomaticVariant => string.Equals(Variant.Trim(), "auto", StringComparison.OrdinalIgnoreCase);

        // The fine-tuning options given a value other than their default (a fresh Settings holds the defaults): without
        // --fine-tune they would do nothing, silently.
        private List<string> FineTuningOptionsGiven()
        {
            var d = new Settings();
            var given = new List<string>();
            if (Unfreeze != d.Unfreeze) given.Add("--unfreeze");
            if (TrainBatchNorm != d.TrainBatchNorm) given.Add("--train-batchnorm");
            if (Epochs != d.Epochs) given.Add("--epochs");
            if (Resolution != d.Resolution) given.Add("--resolution");
            if (Augment != d.Augment) given.Add("--augment");
            if (Flip != d.Flip) given.Add("--flip");
            if (LearningRate != d.LearningRate) given.Add("--lr");
            if (Optimizer != d.Optimizer) given.Add("--optimizer");
            if (FineTuneBatch != d.FineTuneBatch) given.Add("--fine-tune-batch");
            if (DropPath != d.DropPath) given.Add("--drop-path");
            if (Dropout != d.Dropout) given.Add("--dropout");
            if (Patience != d.Patience) given.Add("--patience");
            if (Resume != d.Resume) given.Add("--resume");
            return given;
        }

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            if (!FineTune && FineTuningOptionsGiven() is { Count: > 0 } given)
                return ValidationResult.Error($"{string.Join(", ", given)} {(given.Count == 1 ? "is a fine-tuning option" : "are fine-tuning options")}: add --fine-tune, or leave {(given.Count == 1 ? "it" : "them")} out (without --fine-tune only the head trains).");
            if (TimeBudgetOption.Problem(TimeBudget) is { } budget) return ValidationResult.Error(budget);
            if (Features is not null)
            {
                if (Data is not null) return ValidationResult.Error("Give one of --data and --features.");
                if (FineTune || IsAutomaticVariant) return ValidationResult.Error("--features trains the head on stored features; --fine-tune and --variant auto need the images (--data).");
            }
            else
            {
                var data = DataSource.Validate(Data);
                if (!data.Successful) return data;
            }
            if (Trainer != "auto")
            {
                try { Trainers.Parse(Trainer); }
                catch (ArgumentException e) { return ValidationResult.Error(e.Message); }
            }
            if (ClassWeightsOption.Problem(ClassWeights) is { } weights) return ValidationResult.Error(weights);
            if (MultiLabel && (Features is not null || FineTune || IsAutomaticVariant || TimeBudget is not null))
                return ValidationResult.Error("--multi-label trains on --data with one named variant; --features, --fine-tune, --variant auto and --time-budget are not available with it.");
            if (ValidationFraction is <= 0 or >= 1) return ValidationResult.Error($"--validation-fraction must lie in (0, 1), not {ValidationFraction}.");
            if (FineTune && FineTuneRun.Problem(this) is { } fineTune) return ValidationResult.Error(fineTune);
            if (IsAutomaticVariant && Weights is not null)
                return ValidationResult.Error("--variant auto sweeps b0 to b3 with their pretrained weights or with --random-init; --weights names one checkpoint of one variant. Name that variant instead.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(s.Out);
        if (Directory.Exists(output)) throw new ArgumentException($"--out '{s.Out}' is a folder; name the model file to write in it (for example {Path.Combine(s.Out, "model.zip")}).");
        if (!(s.FineTune && s.Resume)) ModelFiles.RefuseOverwrite(output, s.Force);
        if (s.Features is not null) return Shards.FeaturesTrainingRun.Execute(s, output, cancellationToken);
        // Before any single-label path (fine-tuning and the variant sweep included): "a;b" would otherwise become one class.
        if (!s.MultiLabel && Training.MultiLabel.MultiLabelManifest.LooksMultiLabel(s.Data!))
            throw new InvalidDataException($"'{s.Data}' has labels separated by ';', as a multi-label manifest has; pass --multi-label to train one classifier per label.");
        if (s.FineTune) return FineTuneRun.Execute(s, output, cancellationToken);
        if (s.IsAutomaticVariant) return TrainRecommendedVariant(s, output, cancellationToken);
        if (s.MultiLabel)
            return MultiLabel.MultiLabelRun.Execute(
                new MultiLabel.MultiLabelRun.Request(s.Data!, output, s.ToOptions(), s.Trainer, s.ValidationFraction, s.Seed, s.Quiet, s.Json, s.ClassWeights, FailOnBadImage: s.FailOnBadImage),
                s.ResolveBackbone, cancellationToken);
        return TrainingRun.Execute(
            new TrainingRun.Request(s.Data!, output, s.ToOptions(), s.Trainer, s.ValidationFraction, s.Seed, s.TimeBudget, s.Quiet, s.Json,
                FailOnBadImage: s.FailOnBadImage, ClassWeights: s.ClassWeights),
            (Func<bool, IReadOnlyList<string>, EfficientNetBackbone>)s.ResolveBackbone, cancellationToken);
    }

    /// <summary>--variant auto: sweep b0 to b3 (bounded), then train the recommended variant and record the sweep in model.json.</summary>
    private static int TrainRecommendedVariant(Settings s, string output, CancellationToken cancellationToken)
    {
        var quiet = s.Quiet || s.Json;
        var (images, _) = BadImages.CheckHeaders(ImageDataset.Load(s.Data!), s.FailOnBadImage);
        if (images.Count == 0) throw new InvalidDataException($"None of the images under '{s.Data}' can be read.");
        var (weighting, weights, _) = ClassWeightsOption.Parse(s.ClassWeights);
        var options = Sweep.SweepOptions.ForAutomaticVariant with
        {
            ClassWeighting = weighting,
            ClassWeights = weights,
            RandomInit = s.RandomInit,
            WeightsSeed = s.InitSeed,
            Seed = s.Seed,
            BatchSize = s.BatchSize,
            Precision = s.Precision.ToLowerInvariant(),
            SkipBadImages = !s.FailOnBadImage,
            AcceptTruncatedImages = s.AcceptTruncated,
            OnCacheWarning = warning => Console.Error.WriteLine("warning: " + InertText.Line(warning)),
        };
        if (!quiet && s.RandomInit) AnsiConsole.MarkupLine($"[yellow]{Inert.Markup(Sweep.SweepRunner.RandomInitWarning)}[/]");
        var sweep = quiet
            ? Sweep.SweepRunner.Run(images, options, null, cancellationToken)
            : SweepCommand.RunWithProgress(images, options, cancellationToken);
        if (!quiet) SweepTable.Write(sweep);
        var chosen = sweep.Recommendation.Variant
            ?? throw new InvalidDataException($"The variant sweep recommended none ({sweep.Recommendation.Reason}); name a variant with --variant.");
        var backbone = new BackboneSettings
        {
            Variant = chosen, WeightsFamily = s.WeightsFamily, RandomInit = s.RandomInit, InitSeed = s.InitSeed, BatchSize = s.BatchSize,
            OnBadImage = s.OnBadImage, AcceptTruncated = s.AcceptTruncated,
            Preprocess = s.Preprocess, Precision = s.Precision, Calibration = s.Calibration,
            Int8Target = s.Int8Target, Int8MaxFloat = s.Int8MaxFloat,
        };
        if (!quiet) AnsiConsole.MarkupLine($"Training with [bold]{Inert.Markup(chosen)}[/].");
        return TrainingRun.Execute(
            new TrainingRun.Request(s.Data!, output, backbone.ToOptions(), s.Trainer, s.ValidationFraction, s.Seed, s.TimeBudget, s.Quiet, s.Json,
                FailOnBadImage: s.FailOnBadImage, Sweep: sweep, ClassWeights: s.ClassWeights),
            (Func<bool, IReadOnlyList<string>, EfficientNetBackbone>)backbone.ResolveBackbone, cancellationToken);
    }

    internal sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";
    }
}
