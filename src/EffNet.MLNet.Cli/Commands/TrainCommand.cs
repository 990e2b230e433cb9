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
        [Description("With auto: try no further trainer once this many seconds are spent.")]
        public double? TimeBudget { get; init; }

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

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            var data = DataSource.Validate(Data);
            if (!data.Successful) return data;
            if (Trainer != "auto")
            {
                try { Trainers.Parse(Trainer); }
                catch (ArgumentException e) { return ValidationResult.Error(e.Message); }
            }
            if (ValidationFraction is <= 0 or >= 1) return ValidationResult.Error($"--validation-fraction must lie in (0, 1), not {ValidationFraction}.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(s.Out);
        ModelFiles.RefuseOverwrite(output, s.Force);
        return TrainingRun.Execute(
            new TrainingRun.Request(s.Data!, output, s.ToOptions(), s.Trainer, s.ValidationFraction, s.Seed, s.TimeBudget, s.Quiet, s.Json,
                FailOnBadImage: s.FailOnBadImage),
            (Func<bool, IReadOnlyList<string>, EfficientNetBackbone>)s.ResolveBackbone, cancellationToken);
    }

    internal sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";
    }
}
