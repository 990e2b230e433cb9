using System.ComponentModel;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class ExportCommand : Command<ExportCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
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

        [CommandOption("--seed <N>")]
        [Description("Seed for --random-init.")]
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

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out FILE.onnx is required.");
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
        if (File.Exists(output) && !s.Force)
            throw new ArgumentException($"'{output}' already exists; pass --force to overwrite it.");
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.Parse(s.Variant));
        var weights = s.RandomInit
            ? RandomWeights.Create(architecture, s.Seed)
            : CheckpointLoader.Load(architecture, s.Weights!, WeightsFamilyOption.Parse(s.WeightsFamily));
        var options = new FeatureExtractorOptions
        {
            Pooling = s.Pooling == "max" ? Onnx.Pooling.Max : Onnx.Pooling.Average,
            L2Normalize = s.L2Normalize,
            Resolution = s.Resolution,
        };
        EfficientNetOnnxExporter.Save(architecture, weights, output, options);
        var resolution = s.Resolution ?? architecture.Variant.Resolution;
        AnsiConsole.MarkupLine(
            $"Wrote [green]{Markup.Escape(output)}[/]: EfficientNet {architecture.Variant}, weights {Markup.Escape(weights.Source)} ({weights.Family.DisplayName()}), " +
            $"input pixels [[N,3,{resolution},{resolution}]] → features [[N,{architecture.FeatureDimension}]].");
        return ExitCodes.Success;
    }
}
