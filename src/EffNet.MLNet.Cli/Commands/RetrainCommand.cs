using System.Globalization;
using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class RetrainCommand : Command<RetrainCommand.Settings>
{
    internal sealed class Settings : DatasetSettings
    {
        [CommandOption("--model <FILE>")]
        [Description("The model to retrain; its model.json gives the backbone and training settings.")]
        [DefaultValue("model.zip")]
        public string Model { get; init; } = "model.zip";

        [CommandOption("--data <DIR|MANIFEST>")]
        [Description("All images to train on now (old and new); only images not in the feature cache are featurized.")]
        public string? Data { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("Where to save the new model. Default: MODEL.retrained.zip beside the old one, which is never overwritten unless --out names it.")]
        public string? Out { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite --out if it exists.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        [Description("Print only the final metrics line.")]
        [DefaultValue(false)]
        public bool Quiet { get; init; }

        [CommandOption("--json")]
        [Description("Print the new model.json to stdout instead of tables.")]
        [DefaultValue(false)]
        public bool Json { get; init; }

        [CommandOption("--class-weights <auto|none|FILE>")]
        [Description("auto, none or a JSON file of label to weight. Default: what model.json records (auto in older models).")]
        public string? ClassWeights { get; init; }

        [CommandOption("--precision <fp32|int8>")]
        [Description("fp32 or int8. Default: the model's own; int8 calibrates again on the images model.json names, or on --calibration.")]
        public string? Precision { get; init; }

        [CommandOption("--calibration <DIR>")]
        [Description(PrecisionOption.CalibrationDescription)]
        public string? Calibration { get; init; }

        [CommandOption("--int8-target <MEDIAN,P5>")]
        [Description("With --precision int8: least median and 5th-percentile cosine of int8 against fp32 on held-out calibration images, such as 0.99,0.95. Default: the target model.json records.")]
        public string? Int8Target { get; init; }

        [CommandOption("--int8-max-float <N>")]
        [Description("With --precision int8: blocks that may be kept in float to meet --int8-target before falling back to fp32. Default: what model.json records.")]
        public int? Int8MaxFloat { get; init; }

        public override ValidationResult Validate()
        {
            if (Precision is not null && PrecisionOption.Problem(Precision, null) is { } precision) return ValidationResult.Error(precision);
            if ((Int8Target is not null || Int8MaxFloat is not null)
                && PrecisionOption.TargetProblem(Int8Target, Int8MaxFloat, Precision?.ToLowerInvariant() == "int8") is { } target)
                return ValidationResult.Error(target);
            if (ClassWeights is not null && ClassWeightsOption.Problem(ClassWeights) is { } weights) return ValidationResult.Error(weights);
            if (Calibration is not null && !Directory.Exists(Calibration)) return ValidationResult.Error($"--calibration '{Calibration}' is not a folder.");
            var data = DataSource.Validate(Data);
            return data.Successful ? base.Validate() : data;
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var modelPath = Path.GetFullPath(s.Model);
        ModelFiles.Existing(modelPath);
        // A multi-label model (model.json's task) is retrained as one: same settings, thresholds chosen again on validation.
        var multiLabel = MultiLabel.MultiLabelCommands.IsMultiLabel(modelPath) ? MultiLabel.MultiLabelCommands.LoadReport(modelPath) : null;
        var single = multiLabel is null ? ModelFiles.LoadReport(modelPath) : null;
        var (oldBackbone, st) = single is not null ? (single.Backbone, single.Settings) : (multiLabel!.Backbone, multiLabel.Settings);
        // A fine-tuned model's weights are reused as they are, so its fine-tuning record stays true of the new model.
        var fineTuning = FineTuneRecord.Read(ModelFiles.ReportPath(modelPath));
        var output = Path.GetFullPath(s.Out ?? Path.ChangeExtension(modelPath, ".retrained.zip"));
        var namedOld = s.Out is not null && output == modelPath;
        ModelFiles.RefuseOverwrite(output, s.Force || namedOld);

        var family = st.WeightsFamily ?? "auto";
        // A fine-tuned model's weights are written beside it; moved together, they are found there (the backbone's
        // identity, which hashes the weights, still tells another file of the same name apart).
        var weightsPath = st.WeightsPath;
        if (fineTuning is not null && weightsPath is not null && !File.Exists(weightsPath)
            && Path.Combine(Path.GetDirectoryName(modelPath)!, Path.GetFileName(weightsPath)) is var beside && File.Exists(beside))
            weightsPath = beside;
        // A fine-tuned backbone serves at the resolution it was trained at, which model.json records as the crop.
        int? resolution = Architecture.EfficientNetVariant.Parse(st.Variant).Resolution == oldBackbone.CropSize ? null : oldBackbone.CropSize;
        var backbone = new EfficientNetFeaturizerOptions
        {
            Variant = st.Variant, WeightsPath = weightsPath, WeightsFamily = WeightsFamilyOption.Parse(family), RandomInit = st.RandomInit, Seed = st.RandomSeed,
            AcceptTruncatedImages = s.AcceptTruncated, Preprocessing = PreprocessOption.Parse(oldBackbone.Preprocessing), Resolution = resolution,
        };
        // The same precision and calibration images as before keep the backbone's identity (and the feature cache).
        var precision = s.Precision?.ToLowerInvariant() ?? oldBackbone.Precision;
        var sameBackbone = precision == oldBackbone.Precision && s.Calibration is null;
        var calibration = sameBackbone ? oldBackbone.Calibration?.Images : null;
        if (precision == "int8" && s.Calibration is null && calibration is { Count: > 0 } && calibration.FirstOrDefault(i => !File.Exists(i)) is { } missing)
            throw new InvalidDataException($"The model was calibrated on '{missing}', which no longer exists; pass --calibration DIR to calibrate on other images (a new backbone).");
        var resolver = new BackboneSettings
        {
            Variant = st.Variant, Weights = weightsPath, WeightsFamily = family, RandomInit = st.RandomInit, InitSeed = st.RandomSeed,
            Precision = precision, Calibration = s.Calibration, Preprocess = oldBackbone.Preprocessing, ResolutionOverride = resolution,
            // The same int8 target as before, so the same blocks are kept in float (and the identity holds).
            Int8Target = precision != "int8" ? null
                : s.Int8Target ?? (oldBackbone.Int8Check is { } check
                    ? string.Create(CultureInfo.InvariantCulture, $"{check.TargetMedianCosine:R},{check.TargetFifthPercentileCosine:R}") : null),
            Int8MaxFloat = precision == "int8" ? s.Int8MaxFloat ?? oldBackbone.Int8Check?.MaxFloatLayers : null,
        };
        if (multiLabel is not null)
            return MultiLabel.MultiLabelRun.Execute(
                new MultiLabel.MultiLabelRun.Request(s.Data!, output, backbone, st.TrainerOption, st.ValidationFraction, st.Seed, s.Quiet, s.Json,
                    s.ClassWeights ?? st.ClassWeights ?? "auto", sameBackbone ? oldBackbone.Identity : null, s.FailOnBadImage),
                (quiet, images) => resolver.ResolveBackbone(quiet, calibration is { Count: > 0 } ? calibration : images), cancellationToken);
        if (Training.MultiLabel.MultiLabelManifest.LooksMultiLabel(s.Data!))
            throw new InvalidDataException($"'{s.Data}' has labels separated by ';', as a multi-label manifest has, but '{modelPath}' is a single-label model; train a multi-label one with 'effnet train --multi-label'.");
        return TrainingRun.Execute(
            new TrainingRun.Request(s.Data!, output, backbone, st.TrainerOption, st.ValidationFraction, st.Seed, st.TimeBudgetSeconds, s.Quiet, s.Json,
                sameBackbone ? oldBackbone.Identity : null, FailOnBadImage: s.FailOnBadImage, FineTuning: fineTuning, ClassWeights: s.ClassWeights ?? st.ClassWeights ?? "auto"),
            (quiet, images) => resolver.ResolveBackbone(quiet, calibration is { Count: > 0 } ? calibration : images), cancellationToken);
    }
}
