using System.ComponentModel;
using System.Globalization;
using EffNet.MLNet.Cli.Shards;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

/// <summary><c>effnet merge</c>: the shards of a sharded featurization as one features file.</summary>
internal sealed class MergeCommand : Command<MergeCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--in <DIR>")]
        [Description("The folder the shards wrote their part-I-of-N.parquet files into.")]
        public string? In { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("The merged .parquet file: every image once, sorted by path, with the shards' backbone identity.")]
        public string? Out { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite --out if it exists.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(In)) return ValidationResult.Error("--in DIR is required.");
            if (!Directory.Exists(In)) return ValidationResult.Error($"--in '{In}' is not a folder.");
            if (string.IsNullOrWhiteSpace(Out) || !Out.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
                return ValidationResult.Error("--out must name a .parquet file.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(s.Out!);
        ModelFiles.RefuseOverwrite([output], s.Force);
        var set = ShardSet.Load(s.In!);
        cancellationToken.ThrowIfCancellationRequested();
        AtomicFile.Write(output, stream => FeatureParquet.Write(stream, set.Info, set.Rows));
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Merged {set.Files.Count} shard file(s): {set.Rows.Count} rows of {set.Info.Dimension} features ({Inert.Markup(set.Info.Variant)}) in [green]{Inert.Markup(output)}[/]."));
        return ExitCodes.Success;
    }
}
