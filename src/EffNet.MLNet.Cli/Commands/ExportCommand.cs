using System.ComponentModel;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;
using Microsoft.ML;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class ExportCommand : Command<ExportCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--model <FILE>")]
        [Description("A model .zip made by effnet train: export the whole classifier (input 'pixels', outputs 'scores' [[N,K]] and 'predicted_index' [[N]], labels in the metadata) instead of a featurizer.")]
        public string? Model { get; init; }

        [CommandOption("--variant <VARIANT>")]
        [Description("b0…b7, phi=X or w=W,d=D,r=R.")]
        [DefaultValue("b0")]
        public string Variant { get; init; } = "b0";

        [CommandOption("--weights <FILE>")]
        [Description("torchvision or timm checkpoint (.pth or .safetensors) for the variant.")]
        public string? Weights { get; init; }

        [CommandOption("--weights-family <FAMILY>")]
        [Description(WeightsFamilyOption.Description)]
        [DefaultValue("auto")]
        public string WeightsFamily { get; init; } = "auto";

        [CommandOption("--random-init")]
        [Description("Seeded random weights instead of a checkpoint (for tests and trials).")]
        [DefaultValue(false)]
        public bool RandomInit { get; init; }

        // Every command calls the random-weight seed --weights-seed; --seed is export's old spelling.
        [CommandOption("--weights-seed|--seed <N>")]
        [Description("Seed of the --random-init weights (--seed is the old spelling).")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("Where to write the .onnx file.")]
        public string? Out { get; init; }

        [CommandOption("--pooling <avg|max>")]
        [Description("Global pooling of the last feature map.")]
        [DefaultValue("avg")]
        public string Pooling { get; init; } = "avg";

        [CommandOption("--l2-normalize")]
        [Description("Scale every feature vector to unit length.")]
        [DefaultValue(false)]
        public bool L2Normalize { get; init; }

        [CommandOption("--resolution <R>")]
        [Description("Input side in pixels. Default: the variant's own.")]
        public int? Resolution { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite --out if it exists.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        [CommandOption("--precision <fp32|int8>")]
        [Description("fp32 (default) or int8: int8 convolutions from the fourth stage on, activation ranges calibrated on --calibration (required with int8).")]
        [DefaultValue("fp32")]
        public string Precision { get; init; } = "fp32";

        [CommandOption("--calibration <DIR>")]
        [Description(PrecisionOption.CalibrationDescription)]
        public string? Calibration { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out FILE.onnx is required.");
            if (PrecisionOption.Problem(Precision, Calibration, calibrationRequired: Model is null) is { } precision) return ValidationResult.Error(precision);
            if (Model is not null && PrecisionOption.Parse(Precision) != Onnx.Precision.Float32)
                return ValidationResult.Error("--model exports the trained classifier as it was saved; --precision applies to a featurizer export.");
            if (Model is not null)
                return Weights is not null || RandomInit || Resolution is not null || L2Normalize || Pooling != "avg" || Variant != "b0"
                    ? ValidationResult.Error("--model exports the trained classifier as it was saved; leave out --variant, --weights, --random-init, --pooling, --l2-normalize and --resolution.")
                    : ValidationResult.Success();
            if ((Weights is null) == !RandomInit) return ValidationResult.Error("Give exactly one of --weights FILE or --random-init.");
            if (WeightsFamilyOption.Problem(WeightsFamily) is { } family) return ValidationResult.Error(family);
            if (Pooling is not ("avg" or "max")) return ValidationResult.Error($"--pooling must be avg or max, not '{Pooling}'.");
            if (Resolution is < 32 or > 2048) return ValidationResult.Error($"--resolution must lie in [32, 2048], not {Resolution}.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(s.Out!);
        if (s.Model is not null && string.Equals(Path.GetFullPath(s.Model), output, StringComparison.Ordinal))
            throw new ArgumentException($"--out '{s.Out}' is the model itself; the ONNX would replace it, --force or not. Choose another --out.");
        if (File.Exists(output) && !s.Force)
            throw new ArgumentException($"'{output}' already exists; pass --force to overwrite it.");
        if (s.Model is not null)
        {
            var sidecar = Training.ClassifierOnnxExporter.SidecarPath(output);
            if (File.Exists(sidecar) && !s.Force)
                throw new ArgumentException($"'{sidecar}' (the labels and preprocessing written beside the ONNX) already exists; pass --force to overwrite it.");
            return ExportClassifier(s.Model, output);
        }
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.Parse(s.Variant));
        var eval = Catalog.PretrainedCatalog.EvalTransformFor(architecture.Variant);
        var weights = s.RandomInit
            ? RandomWeights.Create(architecture, s.Seed)
            : CheckpointLoader.Load(architecture, s.Weights!, WeightsFamilyOption.Parse(s.WeightsFamily));
        var options = new FeatureExtractorOptions
        {
            Pooling = s.Pooling == "max" ? Onnx.Pooling.Max : Onnx.Pooling.Average,
            L2Normalize = s.L2Normalize,
            Resolution = s.Resolution,
            // The normalisation the variant's weights were trained with (V2-L: mean and std 0.5).
            Mean = eval.Mean,
            Std = eval.Std,
        };
        var resolution = s.Resolution ?? architecture.Variant.Resolution;
        var graph = EfficientNetOnnxExporter.Build(architecture, weights, options);
        if (PrecisionOption.Parse(s.Precision) == Onnx.Precision.Int8)
            graph = Onnx.Quantization.Int8Quantizer.Quantize(graph, PrecisionOption.Images(s.Calibration!).Select(path =>
            {
                var pixels = new float[3 * resolution * resolution];
                Imaging.FastImageDecoder.Decode(path, resolution, pixels);
                return pixels;
            }).ToList());
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(graph);
        AtomicFile.Write(output, stream => stream.Write(bytes));
        AnsiConsole.MarkupLine(
            $"Wrote [green]{Inert.Markup(output)}[/]: EfficientNet {architecture.Variant}, weights {Inert.Markup(weights.Source)} ({weights.Family.DisplayName()}), " +
            $"input pixels [[N,3,{resolution},{resolution}]] → features [[N,{architecture.FeatureDimension}]], {s.Precision.ToLowerInvariant()}.");
        return ExitCodes.Success;
    }

    private static int ExportClassifier(string model, string output)
    {
        var modelPath = ModelFiles.Existing(Path.GetFullPath(model));
        var ml = new MLContext(0);
        Training.ClassifierOnnxExporter.Save(ml, modelPath, output);
        var onnx = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(output));
        var size = onnx.MetadataProps.Single(p => p.Key == "effnet.input_size").Value;
        var labels = onnx.MetadataProps.Single(p => p.Key == Training.ClassifierOnnxExporter.LabelsKey).Value;
        AnsiConsole.MarkupLine(
            $"Wrote [green]{Inert.Markup(output)}[/]: input pixels [[N,3,{size},{size}]] RGB 0-255 → " +
            (onnx.Graph.Output.Any(o => o.Name == Training.ClassifierOnnxExporter.ProbabilitiesName)
                ? "probabilities [[N,K]] (multi-label; the thresholds stay in model.json)" : "scores [[N,K]], predicted_index [[N]]") +
            $"; labels {Inert.Markup(labels)} in the metadata and, with the exact preprocessing, in [green]{Inert.Markup(Training.ClassifierOnnxExporter.SidecarPath(output))}[/].");
        return ExitCodes.Success;
    }
}
