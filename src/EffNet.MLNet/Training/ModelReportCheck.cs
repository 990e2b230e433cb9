using System.Globalization;
using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Training;

/// <summary>
/// model.json is untrusted input: <c>effnet retrain</c> builds a backbone from it and
/// <c>predict</c> sizes images by it. Each field a command acts on is checked against what
/// <c>effnet train</c> can write, so an edited or forged file gets one line naming the field,
/// not an allocation of gigabytes or a stack trace.
/// </summary>
internal static class ModelReportCheck
{
    public const long MaxFileBytes = 64L << 20;
    public const int MinImageSide = 16;
    public const int MaxImageSide = 1024;
    public const int MaxLabels = 100_000;
    public const int MaxLabelLength = 1000;
    public const int MaxFeatureDimension = 16_384;

    // EfficientNet-B7 has 64 M parameters without its head; twice that is beyond any variant effnet trains.
    public const long MaxBackboneParameters = 128_000_000;

    /// <summary>Refuse a file too large to be a model report, or one that is not a regular file.</summary>
    /// <exception cref="InvalidDataException">It is not.</exception>
    public static void CheckFile(string path)
    {
        if (FileKind.NotRegular(path) is { } problem) throw Refuse(path, $"the model report {problem}");
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw Refuse(path, $"the model report is {length:N0} bytes, more than the {MaxFileBytes:N0} a model.json can need");
    }

    /// <summary>A resize or crop side recorded in the report, within what training can produce.</summary>
    /// <exception cref="InvalidDataException">It is out of range.</exception>
    public static int ImageSide(string path, string field, int value) =>
        value is >= MinImageSide and <= MaxImageSide ? value
            : throw Refuse(path, string.Create(CultureInfo.InvariantCulture, $"{field} is {value}, outside {MinImageSide}…{MaxImageSide}"));

    /// <summary>Check every field of <paramref name="report"/> a command acts on.</summary>
    /// <exception cref="InvalidDataException">A field is missing or out of range.</exception>
    public static ModelReport Check(string path, ModelReport? report)
    {
        if (report is null) throw Refuse(path, "is not a model report (empty or null)");
        CheckShared(path, report.Labels, report.Backbone, report.Settings);
        if (report.ClassWeights is { } weights && (weights.Count > MaxLabels || weights.Any(w => w.Key is null || !(w.Value > 0 && double.IsFinite(w.Value)))))
            throw Refuse(path, "classWeights holds a weight that is not a positive, finite number");
        return report;
    }

    /// <summary>The checks every report (single- or multi-label) needs: labels, backbone sizes, settings.</summary>
    /// <exception cref="InvalidDataException">A field is missing or out of range.</exception>
    public static void CheckShared(string path, IReadOnlyList<string>? labels, BackboneReport? backbone, TrainingSettingsReport? settings)
    {
        if (labels is null || backbone is null || settings is null)
            throw Refuse(path, "lacks labels, backbone or settings");
        if (labels.Count is 0 or > MaxLabels)
            throw Refuse(path, string.Create(CultureInfo.InvariantCulture, $"lists {labels.Count:N0} labels; a model has 1…{MaxLabels:N0}"));
        if (labels.Any(l => l is null || l.Length > MaxLabelLength))
            throw Refuse(path, string.Create(CultureInfo.InvariantCulture, $"has a label that is null or longer than {MaxLabelLength} characters"));
        var b = backbone;
        ImageSide(path, "backbone.resizeSize", b.ResizeSize);
        ImageSide(path, "backbone.cropSize", b.CropSize);
        if (b.FeatureDimension is < 1 or > MaxFeatureDimension)
            throw Refuse(path, string.Create(CultureInfo.InvariantCulture, $"backbone.featureDimension is {b.FeatureDimension}, outside 1…{MaxFeatureDimension}"));
        var s = settings;
        if (!(s.ValidationFraction is >= 0 and < 1))
            throw Refuse(path, string.Create(CultureInfo.InvariantCulture, $"settings.validationFraction is {s.ValidationFraction}, outside [0, 1)"));
        if (s.TimeBudgetSeconds is { } budget && !(budget > 0 && double.IsFinite(budget)))
            throw Refuse(path, string.Create(CultureInfo.InvariantCulture, $"settings.timeBudgetSeconds is {budget}, not a positive number"));
        CheckVariant(path, s.Variant);
    }

    private static void CheckVariant(string path, string? variant)
    {
        if (variant is null) throw Refuse(path, "settings.variant is missing");
        if (variant.Equals("auto", StringComparison.OrdinalIgnoreCase)) return;
        EfficientNetVariant parsed;
        try { parsed = EfficientNetVariant.Parse(variant); }
        catch (ArgumentException ex) { throw Refuse(path, $"settings.variant '{InertText.Name(variant)}' is not a variant ({ex.Message.Split('.')[0]})"); }
        if (parsed.Resolution > MaxImageSide)
            throw Refuse(path, string.Create(CultureInfo.InvariantCulture, $"settings.variant '{InertText.Name(variant)}' has resolution {parsed.Resolution}, over {MaxImageSide}"));
        var parameters = ArchitectureCost.Parameters(EfficientNetArchitecture.For(parsed), classes: 0);
        if (parameters > MaxBackboneParameters)
            throw Refuse(path, string.Create(CultureInfo.InvariantCulture, $"settings.variant '{InertText.Name(variant)}' has {parameters:N0} parameters, over the {MaxBackboneParameters:N0} of any variant effnet trains"));
    }

    private static InvalidDataException Refuse(string path, string problem) => new($"'{path}': {problem}; the file was edited or is not from effnet train.");
}
