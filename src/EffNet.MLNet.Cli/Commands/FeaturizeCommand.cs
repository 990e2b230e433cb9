using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
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

        [CommandOption("--out <FILE>")]
        [Description("Output: .idv (ML.NET binary, loads with mlContext.Data.LoadFromBinary) or .csv; columns ImagePath, Label, Features.")]
        public string? Out { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite --out if it exists.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            var data = DataSource.Validate(Data);
            if (!data.Successful) return data;
            if (string.IsNullOrWhiteSpace(Out) || !(Out.EndsWith(".idv", StringComparison.OrdinalIgnoreCase) || Out.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)))
                return ValidationResult.Error("--out must name a .idv or .csv file.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
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
