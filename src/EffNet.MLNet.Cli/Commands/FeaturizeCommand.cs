using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using EffNet.MLNet.Cli.Shards;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class FeaturizeCommand : Command<FeaturizeCommand.Settings>
{
    internal sealed class Settings : BackboneSettings
    {
        [CommandOption("--data <DIR|MANIFEST>")]
        [Description("A folder of images (those in a sub-folder are labelled with its name, the others get an empty label), or a CSV/TSV manifest of path[[,label]].")]
        public string? Data { get; init; }

        [CommandOption("--out <FILE|DIR>")]
        [Description("Output: .idv (ML.NET binary, loads with mlContext.Data.LoadFromBinary) or .csv, columns ImagePath, Label, Features; or .parquet (path, label, content_sha256, vector); with --shard or --shards, a folder that gets part-I-of-N.parquet.")]
        public string? Out { get; init; }

        [CommandOption("--shard <I/N>")]
        [Description("Featurize only shard I of N (from 0), split by a stable hash of each image's relative path, into <out>/part-I-of-N.parquet; a finished shard is skipped, an interrupted one redone from the feature cache.")]
        public string? Shard { get; init; }

        [CommandOption("--shards <N>")]
        [Description("Like --shard, with the index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array).")]
        public int? Shards { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite --out if it exists.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        private static bool IsOutputFile(string path) => new[] { ".idv", ".csv", ".parquet" }.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            var data = DataSource.Validate(Data);
            if (!data.Successful) return data;
            if (Shard is not null && Shards is not null) return ValidationResult.Error("Give at most one of --shard I/N and --shards N.");
            if (Shard is not null || Shards is not null)
            {
                if (string.IsNullOrWhiteSpace(Out) || IsOutputFile(Out))
                    return ValidationResult.Error("With --shard or --shards, --out names a folder (each shard writes part-I-of-N.parquet into it).");
                return ValidationResult.Success();
            }
            if (string.IsNullOrWhiteSpace(Out) || !IsOutputFile(Out))
                return ValidationResult.Error("--out must name a .idv, .csv or .parquet file.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        if (s.Shard is not null || s.Shards is not null)
        {
            var shard = s.Shard is { } text ? ShardSpec.Parse(text) : ShardSpec.FromEnvironment(s.Shards, Environment.GetEnvironmentVariable);
            return ShardedFeaturizeRun.Execute(s, shard, Path.Combine(Path.GetFullPath(s.Out!), shard.FileName), cancellationToken);
        }
        if (s.Out!.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
            return ShardedFeaturizeRun.Execute(s, ShardSpec.Whole, Path.GetFullPath(s.Out), cancellationToken);
        var output = Path.GetFullPath(s.Out!);
        ModelFiles.RefuseOverwrite([output, BadImages.ReportPath(output)], s.Force);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var (images, bad) = BadImages.CheckHeaders(BadImages.LoadDataset(s.Data!, requireLabels: false), s.FailOnBadImage);
        BadImages.Print(bad);

        var backbone = s.ResolveBackbone(quiet: false, [.. images.Select(i => i.ImagePath)]);
        var ml = new MLContext(0);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: s.ToOptions())
            .Fit(ml.Data.LoadFromEnumerable(Array.Empty<TrainCommand.ImageInput>()));
        using var cache = TrainingRun.OpenCache(featurizer);
        var watch = Stopwatch.StartNew();
        var featurized = ImageClassifierTrainer.Featurize(ml, featurizer, images, cache, skipBadImages: !s.FailOnBadImage, null, cancellationToken);
        var (table, hits) = (featurized.Table, featurized.CacheHits);
        var seconds = watch.Elapsed.TotalSeconds;
        BadImages.Print(featurized.BadImages);
        BadImages.WarnTruncated(featurized.AcceptedTruncated);
        bad.AddRange(featurized.BadImages);
        if (table.Count == 0) throw new InvalidDataException($"None of the images under '{s.Data}' can be used.");

        BadImages.WriteOrRemoveReport(output, bad);
        var view = table.ToDataView(ml);
        AtomicFile.Write(output, stream =>
        {
            if (output.EndsWith(".idv", StringComparison.OrdinalIgnoreCase)) ml.Data.SaveAsBinary(view, stream);
            else ml.Data.SaveAsText(view, stream, separatorChar: ',', headerRow: true, schema: false);
        });
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {table.Count} rows of {table.Dimension} features to [green]{Inert.Markup(output)}[/]: {table.Count - hits} featurized, {hits} from the cache, {table.Count / Math.Max(seconds, 1e-9):0.0} images/s."));
        return ExitCodes.Success;
    }
}
