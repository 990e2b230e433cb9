using System.Diagnostics;
using System.Globalization;
using EffNet.MLNet.Cli.Commands;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Shards;

/// <summary>
/// <c>effnet featurize</c> into Parquet: one shard of the dataset (or all of it), through the feature cache,
/// written to a temporary file that is renamed into place only when whole. A run killed part-way leaves no
/// output (a hidden temporary file at most) and its features in the cache, so running it again
/// featurizes only what the first did not reach; a shard whose file is already there, for the same images
/// and backbone, is skipped.
/// </summary>
internal static class ShardedFeaturizeRun
{
    /// <param name="settings">The featurize command's settings.</param>
    /// <param name="shard">Which shard.</param>
    /// <param name="output">The Parquet file to write.</param>
    /// <param name="cancellationToken">Stops between images; nothing is written then.</param>
    public static int Execute(FeaturizeCommand.Settings settings, ShardSpec shard, string output, CancellationToken cancellationToken)
    {
        var report = Path.ChangeExtension(output, ".report.json");
        var all = BadImages.LoadDataset(settings.Data!, requireLabels: false);
        var dataset = ShardDataset.Select(settings.Data!, all, shard);
        var fingerprint = dataset.Fingerprint();

        // Every shard resolves the same backbone: an int8 calibration sample is drawn from the whole dataset, in key order.
        var everyImage = all.Select(i => i.ImagePath).Order(StringComparer.Ordinal).ToList();
        var backbone = settings.ResolveBackbone(quiet: false, everyImage);
        var ml = new MLContext(0);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(backbone, options: settings.ToOptions())
            .Fit(ml.Data.LoadFromEnumerable(Array.Empty<TrainCommand.ImageInput>()));

        if (File.Exists(output) && !settings.Force && Finished(output, featurizer.FeatureIdentity, shard, fingerprint) is { } rows)
        {
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"Shard {shard} is already complete in [green]{Inert.Markup(output)}[/] ({rows} rows, same images and backbone): skipped."));
            return ExitCodes.Success;
        }

        var (images, bad) = BadImages.CheckHeaders([.. dataset.Images.Select(k => k.Image)], settings.FailOnBadImage);
        BadImages.Print(bad);
        using var cache = TrainingRun.OpenCache(featurizer);
        var watch = Stopwatch.StartNew();
        var featurized = ImageClassifierTrainer.Featurize(ml, featurizer, images, cache, skipBadImages: !settings.FailOnBadImage, null, cancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        BadImages.Print(featurized.BadImages);
        BadImages.WarnTruncated(featurized.AcceptedTruncated);
        bad.AddRange(featurized.BadImages);
        cancellationToken.ThrowIfCancellationRequested();

        var keyOf = dataset.Images.ToDictionary(k => k.Image.ImagePath, k => k.Key, StringComparer.Ordinal);
        var table = featurized.Table;
        var featureRows = Enumerable.Range(0, table.Count)
            .Select(i => new FeatureRow(keyOf[table.Images[i].ImagePath], table.Images[i].Label, FeatureCache.ContentHash(table.Images[i].ImagePath), table.Features[i]))
            .OrderBy(r => r.Path, StringComparer.Ordinal)
            .ToList();
        var info = FeatureFileInfo.For(featurizer, shard, fingerprint, featureRows.Count);

        new ShardReport(shard.ToString(), dataset.Images.Count, featureRows.Count, table.Count - featurized.CacheHits, featurized.CacheHits,
            Math.Round(seconds, 3), Math.Round(table.Count / Math.Max(seconds, 1e-9), 2), featurizer.FeatureIdentity,
            [.. bad.Select(b => new ShardReport.Skipped(ShardSpec.RelativeKey(dataset.Root, b.ImagePath), InertText.Line(b.Reason)))]).Save(report);
        // The rename at the end of this write is what marks the shard done.
        AtomicFile.Write(output, stream => FeatureParquet.Write(stream, info, featureRows));
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Shard {shard}: wrote {featureRows.Count} rows of {info.Dimension} features to [green]{Inert.Markup(output)}[/]: {table.Count - featurized.CacheHits} featurized, {featurized.CacheHits} from the cache, {table.Count / Math.Max(seconds, 1e-9):0.0} images/s; {bad.Count} left out."));
        return ExitCodes.Success;
    }

    /// <summary>The rows of a finished shard of these images and this backbone at <paramref name="output"/>; null when it is anything else.</summary>
    /// <exception cref="InvalidDataException">The file holds another shard, dataset or backbone: replacing it takes --force.</exception>
    private static long? Finished(string output, string identity, ShardSpec shard, string fingerprint)
    {
        FeatureFileInfo info;
        try { info = FeatureParquet.ReadInfo(output); }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{e.Message} It is where shard {shard} goes; remove it, or pass --force to replace it.", e);
        }
        if (info.Identity != identity)
            throw new InvalidDataException($"'{output}' holds features of another backbone ({info.Identity}; this run: {identity}); pass --force to replace it, or choose another --out.");
        if (info.Shard != shard || info.Dataset != fingerprint)
            throw new InvalidDataException($"'{output}' holds shard {info.Shard} of other images (dataset {info.Dataset[..Math.Min(12, info.Dataset.Length)]}…, this run's {fingerprint[..12]}…); pass --force to replace it.");
        return info.Rows;
    }
}
