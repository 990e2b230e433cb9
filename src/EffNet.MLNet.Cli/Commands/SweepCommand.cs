using System.ComponentModel;
using System.Globalization;
using EffNet.MLNet.Sweep;
using EffNet.MLNet.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

/// <summary><c>effnet sweep</c>: which EfficientNet suits this data on this machine.</summary>
internal sealed class SweepCommand : Command<SweepCommand.Settings>
{
    internal sealed class Settings : DatasetSettings
    {
        [CommandOption("--data <DIR|MANIFEST>")]
        [Description("A folder with one sub-folder per label, or a CSV/TSV manifest of path,label.")]
        public string? Data { get; init; }

        [CommandOption("--variants <LIST>")]
        [Description("Comma-separated variants: b0…b7, phi=X, w=W;d=D;r=R. Default (without --phi): b0,b1,b2,b3.")]
        public string? Variants { get; init; }

        [CommandOption("--phi <LIST>")]
        [Description("Comma-separated compound coefficients, e.g. 0,0.5,1,1.5 (swept as phi=X).")]
        public string? Phi { get; init; }

        [CommandOption("--weights-dir <DIR>")]
        [Description("A folder with one checkpoint per variant, named as torchvision or timm publish them. Default: the pretrained ImageNet weights, downloaded once into EFFNET_HOME.")]
        public string? WeightsDir { get; init; }

        [CommandOption("--random-init")]
        [Description("Seeded random weights: checks the machinery only; the accuracies say nothing about pretrained behaviour.")]
        [DefaultValue(false)]
        public bool RandomInit { get; init; }

        [CommandOption("--weights-seed|--init-seed <N>")]
        [Description("Seed of the --random-init weights.")]
        [DefaultValue(0)]
        public int WeightsSeed { get; init; }

        [CommandOption("--precision <fp32|int8>")]
        [Description("Precision of the features and of the measured costs.")]
        [DefaultValue("fp32")]
        public string Precision { get; init; } = "fp32";

        [CommandOption("--int8-target <MEDIAN,P5>")]
        [Description(PrecisionOption.TargetDescription)]
        public string? Int8Target { get; init; }

        [CommandOption("--int8-max-float <N>")]
        [Description(PrecisionOption.MaxFloatDescription)]
        public int? Int8MaxFloat { get; init; }

        [CommandOption("--folds <K>")]
        [Description("Folds of the stratified cross-validation.")]
        [DefaultValue(5)]
        public int Folds { get; init; } = 5;

        [CommandOption("--seed <N>")]
        [Description("Seed of the folds and the linear probe.")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--time-budget <SECONDS>")]
        [Description("Stop adding larger variants once this many seconds are spent; skip a variant whose estimated featurization does not fit.")]
        public double? TimeBudget { get; init; }

        [CommandOption("--max-ms-per-image <X>")]
        [Description("Recommend the most accurate variant at or under X ms per image, instead of the smallest within the fold noise of the best.")]
        public double? MaxMsPerImage { get; init; }

        [CommandOption("--resolution <R>")]
        [Description("Every variant at this crop instead of its own resolution (quick trials).")]
        public int? Resolution { get; init; }

        [CommandOption("--batch-size <N>")]
        [Description("Images per ONNX Runtime run; images/s is measured at this batch size.")]
        [DefaultValue(16)]
        public int BatchSize { get; init; } = 16;

        [CommandOption("--out <FILE>")]
        [Description("Where to write the results as JSON; the chart goes beside it as .png (and unusable images, if any, as .bad-images.tsv).")]
        [DefaultValue("sweep.json")]
        public string Out { get; init; } = "sweep.json";

        [CommandOption("--class-weights <auto|none|FILE>")]
        [Description(ClassWeightsOption.Description)]
        [DefaultValue("auto")]
        public string ClassWeights { get; init; } = "auto";

        [CommandOption("--force")]
        [Description("Overwrite --out and its chart if they exist.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        [CommandOption("--json")]
        [Description("Print sweep.json's content to stdout instead of tables.")]
        [DefaultValue(false)]
        public bool Json { get; init; }

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            var data = DataSource.Validate(Data);
            if (!data.Successful) return data;
            if (WeightsDir is not null && RandomInit) return ValidationResult.Error("Give at most one of --weights-dir DIR and --random-init.");
            if (SweepRunner.PrecisionProblem(Precision, "--precision") is { } precision) return ValidationResult.Error(precision);
            if (PrecisionOption.TargetProblem(Int8Target, Int8MaxFloat, Precision == "int8") is { } target) return ValidationResult.Error(target);
            if (ClassWeightsOption.Problem(ClassWeights) is { } weights) return ValidationResult.Error(weights);
            if (Folds is < 2 or > 50) return ValidationResult.Error($"--folds must lie in [2, 50], not {Folds}.");
            if (TimeBudgetOption.Problem(TimeBudget) is { } budget) return ValidationResult.Error(budget);
            if (MaxMsPerImage is <= 0) return ValidationResult.Error($"--max-ms-per-image must be positive, not {MaxMsPerImage}.");
            if (Resolution is < 32 or > 1024) return ValidationResult.Error($"--resolution must lie in [32, 1024], not {Resolution}.");
            if (BatchSize is < 1 or > 4096) return ValidationResult.Error($"--batch-size must lie in [1, 4096], not {BatchSize}.");
            try { VariantList(); }
            catch (ArgumentException e) { return ValidationResult.Error(e.Message); }
            return ValidationResult.Success();
        }

        /// <summary>--variants and --phi together, each checked; b0…b3 when neither is given.</summary>
        public IReadOnlyList<string> VariantList()
        {
            var names = new List<string>();
            foreach (var v in Split(Variants))
            {
                // A custom w=W,d=D,r=R cannot sit in a comma list; it is written with semicolons there.
                var name = v.Replace(';', ',');
                try { Architecture.EfficientNetVariant.Parse(name); }
                catch (Exception e) when (e is ArgumentException or FormatException)
                {
                    throw new ArgumentException($"--variants: '{v}' is not a variant ({e.Message}); use b0…b7, phi=X or w=W;d=D;r=R.");
                }
                names.Add(name);
            }
            foreach (var p in Split(Phi))
            {
                if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var phi) || phi is < 0 or > 10)
                    throw new ArgumentException($"--phi: '{p}' is not a compound coefficient in [0, 10].");
                names.Add("phi=" + phi.ToString(CultureInfo.InvariantCulture));
            }
            return names.Count > 0 ? names : new SweepOptions().Variants;
        }

        public SweepOptions ToOptions()
        {
            var (weighting, weights, _) = ClassWeightsOption.Parse(ClassWeights);
            return new()
            {
            ClassWeighting = weighting,
            ClassWeights = weights,
            Variants = VariantList(),
            RandomInit = RandomInit,
            WeightsSeed = WeightsSeed,
            WeightsDirectory = WeightsDir is null ? null : Path.GetFullPath(WeightsDir),
            Precision = Precision,
            Int8Target = PrecisionOption.Target(Int8Target, Int8MaxFloat),
            Folds = Folds,
            Seed = Seed,
            TimeBudget = TimeBudget is { } t ? TimeSpan.FromSeconds(t) : null,
            MaxMillisecondsPerImage = MaxMsPerImage,
            Resolution = Resolution,
            BatchSize = BatchSize,
            SkipBadImages = !FailOnBadImage,
            AcceptTruncatedImages = AcceptTruncated,
            OnCacheWarning = warning => Console.Error.WriteLine("warning: " + InertText.Line(warning)),
            };
        }

        private static IEnumerable<string> Split(string? list) =>
            (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(s.Out);
        var chart = ChartPath(output);
        ModelFiles.RefuseOverwrite([output, chart, BadImages.ReportPath(output)], s.Force);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var (images, bad) = BadImages.CheckHeaders(BadImages.LoadDataset(s.Data!), s.FailOnBadImage);
        BadImages.Print(bad);
        if (images.Count == 0) throw new InvalidDataException($"None of the images under '{s.Data}' can be read.");
        var options = s.ToOptions();
        if (s.RandomInit && !s.Json) AnsiConsole.MarkupLine($"[yellow]{Inert.Markup(SweepRunner.RandomInitWarning)}[/]");
        var result = s.Json ? Run(images, options, null, cancellationToken) : RunWithProgress(images, options, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        BadImages.Print(result.BadImages);
        // Images refused from their header never reached the sweep; sweep.json lists them with the rest.
        result = result with { BadImages = [.. bad, .. result.BadImages] };
        BadImages.WriteOrRemoveReport(output, result.BadImages);
        result.Save(output);
        SweepChart.Save(result, chart);

        foreach (var v in result.Variants.Where(v => v.Int8Check?.Warning is not null))
            Console.Error.WriteLine($"warning: {InertText.Line(v.Variant)}: {InertText.Line(v.Int8Check!.Warning!)}");
        if (s.Json)
        {
            Console.Out.WriteLine(result.ToJson());
            return ExitCodes.Success;
        }
        SweepTable.Write(result);
        foreach (var v in result.Variants.Where(v => v.Int8Check is { Warning: null }))
            Console.Out.WriteLine($"{InertText.Line(v.Variant)}: {PrecisionOption.Describe(v.Int8Check!)}");
        AnsiConsole.MarkupLine($"Saved [green]{Inert.Markup(output)}[/] and [green]{Inert.Markup(chart)}[/].");
        return ExitCodes.Success;
    }

    /// <summary>sweep.json → sweep.png.</summary>
    public static string ChartPath(string output) => Path.ChangeExtension(output, ".png");

    private static SweepResult Run(IReadOnlyList<LabeledImage> images, SweepOptions options, IProgress<SweepProgress>? progress, CancellationToken cancellationToken) =>
        SweepRunner.Run(images, options, progress, cancellationToken);

    /// <summary>The sweep with a progress line per variant: its stage, and images or folds done.</summary>
    public static SweepResult RunWithProgress(IReadOnlyList<LabeledImage> images, SweepOptions options, CancellationToken cancellationToken)
    {
        SweepResult? result = null;
        AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                result = Run(images, options, new SyncProgress(p =>
                {
                    if (!tasks.TryGetValue(p.Variant, out var task)) tasks[p.Variant] = task = ctx.AddTask(Inert.Markup(p.Variant), maxValue: 1);
                    var name = Inert.Markup(p.Variant);
                    switch (p.Stage)
                    {
                        case SweepStage.Preparing:
                            task.Description = $"{name}: preparing the network";
                            break;
                        case SweepStage.Featurizing or SweepStage.CrossValidating:
                            task.Description = p.Stage == SweepStage.Featurizing ? $"{name}: featurizing {p.Total} images" : $"{name}: {p.Total}-fold linear probe";
                            task.MaxValue = Math.Max(1, p.Total);
                            task.Value = p.Done;
                            break;
                        case SweepStage.Measuring:
                            task.Description = $"{name}: timing";
                            break;
                        case SweepStage.Finished:
                            var r = p.Result!;
                            task.Description = string.Create(CultureInfo.InvariantCulture,
                                $"{name}: accuracy {r.Accuracy!.Mean:P1}, {r.MillisecondsPerImage:0.0} ms/image, {r.CacheHits} from the cache");
                            task.MaxValue = 1;
                            task.Value = 1;
                            break;
                        case SweepStage.Skipped:
                            task.Description = $"{name}: [yellow]skipped[/]";
                            task.MaxValue = 1;
                            task.Value = 1;
                            break;
                    }
                }), cancellationToken);
            });
        return result!;
    }

    private sealed class SyncProgress(Action<SweepProgress> report) : IProgress<SweepProgress>
    {
        public void Report(SweepProgress value) => report(value);
    }
}
