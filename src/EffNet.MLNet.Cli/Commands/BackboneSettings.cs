using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>Options shared by the commands that featurize a dataset of images.</summary>
internal class BackboneSettings : DatasetSettings
{
    [CommandOption("--variant <VARIANT>")]
    [Description("b0…b7, phi=X or w=W,d=D,r=R.")]
    [DefaultValue("b0")]
    public string Variant { get; init; } = "b0";

    [CommandOption("--weights <FILE>")]
    [Description("torchvision or timm checkpoint (.pth or .safetensors). Default: the pretrained ImageNet weights, downloaded once into EFFNET_HOME.")]
    public string? Weights { get; init; }

    [CommandOption("--weights-family <FAMILY>")]
    [Description(WeightsFamilyOption.Description)]
    [DefaultValue("auto")]
    public string WeightsFamily { get; init; } = "auto";

    [CommandOption("--random-init")]
    [Description("Seeded random weights instead of pretrained ones (works offline; for trials and tests).")]
    [DefaultValue(false)]
    public bool RandomInit { get; init; }

    [CommandOption("--weights-seed|--init-seed <N>")]
    [Description("Seed of the --random-init weights (--init-seed is the old spelling).")]
    [DefaultValue(0)]
    public int InitSeed { get; init; }

    [CommandOption("--batch-size <N>")]
    [Description("Images per ONNX Runtime run.")]
    [DefaultValue(4)]
    public int BatchSize { get; init; } = 4;

    [CommandOption("--preprocess <MODE>")]
    [Description(PreprocessOption.Description)]
    [DefaultValue("fast")]
    public string Preprocess { get; init; } = "fast";

    [CommandOption("--precision <fp32|int8>")]
    [Description(PrecisionOption.Description)]
    [DefaultValue("fp32")]
    public string Precision { get; init; } = "fp32";

    [CommandOption("--calibration <DIR>")]
    [Description(PrecisionOption.CalibrationDescription)]
    public string? Calibration { get; init; }

    [CommandOption("--int8-target <MEDIAN,P5>")]
    [Description(PrecisionOption.TargetDescription)]
    public string? Int8Target { get; init; }

    [CommandOption("--int8-max-float <N>")]
    [Description(PrecisionOption.MaxFloatDescription)]
    public int? Int8MaxFloat { get; init; }

    public override ValidationResult Validate()
    {
        if (PrecisionOption.Problem(Precision, Calibration) is { } precision) return ValidationResult.Error(precision);
        if (PrecisionOption.TargetProblem(Int8Target, Int8MaxFloat, PrecisionOption.Parse(Precision) == Onnx.Precision.Int8) is { } target)
            return ValidationResult.Error(target);
        if (Weights is not null && RandomInit) return ValidationResult.Error("Give at most one of --weights FILE and --random-init.");
        if (WeightsFamilyOption.Problem(WeightsFamily) is { } family) return ValidationResult.Error(family);
        if (PreprocessOption.Problem(Preprocess) is { } preprocess) return ValidationResult.Error(preprocess);
        if (BatchSize is < 1 or > 4096) return ValidationResult.Error($"--batch-size must lie in [1, 4096], not {BatchSize}.");
        return base.Validate();
    }

    /// <summary>A resolution other than the variant's (a fine-tuned backbone serves at the one it was trained at); not a command-line option.</summary>
    public int? ResolutionOverride { get; init; }

    public EfficientNetFeaturizerOptions ToOptions() => new()
    {
        Variant = Variant,
        Resolution = ResolutionOverride,
        WeightsPath = Weights is null ? null : Path.GetFullPath(Weights),
        WeightsFamily = WeightsFamilyOption.Parse(WeightsFamily),
        RandomInit = RandomInit,
        Seed = InitSeed,
        BatchSize = BatchSize,
        AcceptTruncatedImages = AcceptTruncated,
        Preprocessing = PreprocessOption.Parse(Preprocess),
        Precision = PrecisionOption.Parse(Precision),
        CalibrationImages = Calibration is null ? null : PrecisionOption.Images(Calibration),
        Int8Target = PrecisionOption.Target(Int8Target, Int8MaxFloat),
    };

    /// <summary>Resolve the backbone, showing download progress for pretrained weights.</summary>
    public EfficientNetBackbone ResolveBackbone(bool quiet) => ResolveBackbone(quiet, []);

    /// <summary>
    /// Resolve the backbone; an int8 one without --calibration is calibrated on a seeded sample of
    /// <paramref name="dataImages"/>.
    /// </summary>
    public EfficientNetBackbone ResolveBackbone(bool quiet, IReadOnlyList<string> dataImages)
    {
        var backbone = Resolve(quiet, dataImages);
        PrecisionOption.Print(backbone.Int8Fidelity, quiet);
        return backbone;
    }

    private EfficientNetBackbone Resolve(bool quiet, IReadOnlyList<string> dataImages)
    {
        var options = ToOptions();
        if (options.Precision == Onnx.Precision.Int8 && options.CalibrationImages is null && dataImages.Count > 0)
            options = options with { CalibrationImages = CalibrationSample.Pick(dataImages) };
        if (options.WeightsPath is not null || options.RandomInit || quiet || Console.IsErrorRedirected)
            return EfficientNetBackbone.Resolve(options);
        EfficientNetBackbone? backbone = null;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                var progress = new Progress<Catalog.DownloadProgress>(p =>
                {
                    task ??= ctx.AddTask(Inert.Markup(p.FileName), maxValue: p.TotalBytes ?? 1);
                    task.Value = p.Bytes;
                });
                backbone = EfficientNetBackbone.Resolve(options, v => Catalog.PretrainedCatalog.Default.EnsureWeights(v.Name, progress));
            });
        return backbone!;
    }
}
