using System.Globalization;
using System.Text.Json;

namespace EffNet.MLNet.Training;

/// <summary>
/// Per-class example weights: inverse frequency normalised to mean 1 over the classes, switched on
/// by <see cref="ClassWeighting.Auto"/> when the largest class is at least <see cref="AutoRatio"/>
/// times the smallest, or given per label (a JSON file of <c>{"label": weight}</c>).
/// </summary>
internal static class ClassWeightRule
{
    /// <summary><see cref="ClassWeighting.Auto"/> weights when the largest class has at least this many times the images of the smallest.</summary>
    public const double AutoRatio = 3;

    /// <summary>Largest weights file read: a label and a number per class.</summary>
    public const long MaxFileBytes = 16L << 20;

    /// <summary>The weight of each label, or null when training is unweighted.</summary>
    /// <param name="rowLabels">The label of every training row.</param>
    /// <param name="mode">The rule.</param>
    /// <param name="given">Explicit weights (they win over <paramref name="mode"/>); every label must have one.</param>
    /// <param name="source">Where explicit weights came from, for errors: a file, or the option that held them.</param>
    /// <exception cref="InvalidDataException">An explicit weight is missing, not positive or not finite.</exception>
    public static IReadOnlyDictionary<string, double>? Resolve(IReadOnlyList<string> rowLabels, ClassWeighting mode, IReadOnlyDictionary<string, double>? given,
        string source = "TrainingOptions.ClassWeights")
    {
        var counts = rowLabels.GroupBy(l => l, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        if (given is not null)
        {
            if (counts.Keys.Order(StringComparer.Ordinal).FirstOrDefault(l => !given.ContainsKey(l)) is { } missing)
                throw new InvalidDataException($"'{InertText.Name(source)}' gives no weight for the label '{InertText.Name(missing)}'; give one for every label ({string.Join(", ", counts.Keys.Order(StringComparer.Ordinal).Select(InertText.Name))}).");
            if (given.FirstOrDefault(w => !(w.Value > 0 && double.IsFinite(w.Value))) is { Key: not null } bad)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{InertText.Name(source)}': the weight of '{InertText.Name(bad.Key)}' is {bad.Value}; weights must be positive, finite numbers."));
            return counts.Keys.Order(StringComparer.Ordinal).ToDictionary(l => l, l => given[l], StringComparer.Ordinal);
        }
        return mode switch
        {
            ClassWeighting.None => null,
            ClassWeighting.InverseFrequency => InverseFrequency(counts),
            ClassWeighting.Auto => IsImbalanced(counts) ? InverseFrequency(counts) : null,
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
    }

    /// <summary>Whether the largest class has at least <see cref="AutoRatio"/> times the rows of the smallest.</summary>
    public static bool IsImbalanced(IReadOnlyDictionary<string, int> counts) =>
        counts.Count >= 2 && counts.Values.Max() >= AutoRatio * counts.Values.Min();

    /// <summary>1/count per class, scaled so that the mean over classes is 1.</summary>
    public static IReadOnlyDictionary<string, double> InverseFrequency(IReadOnlyDictionary<string, int> counts)
    {
        var mean = counts.Values.Average(c => 1.0 / c);
        return counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => 1.0 / c.Value / mean, StringComparer.Ordinal);
    }

    /// <summary>Read a JSON object of label → weight.</summary>
    /// <exception cref="InvalidDataException">The file is not such an object; the message names the file.</exception>
    public static IReadOnlyDictionary<string, double> ReadFile(string path)
    {
        if (FileKind.NotRegular(path) is { } problem) throw new InvalidDataException($"'{path}': the class weights file {problem}.");
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new InvalidDataException($"'{path}' is {length:N0} bytes, more than the {MaxFileBytes:N0} a class weights file can need.");
        Dictionary<string, double>? weights;
        try { weights = JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(path)); }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not a JSON object of label to weight (like {{\"cat\": 1, \"dog\": 4.5}}): {InertText.Line(ex.Message)}", ex);
        }
        if (weights is null || weights.Count == 0) throw new InvalidDataException($"'{path}' names no label; it must be a JSON object of label to weight, like {{\"cat\": 1, \"dog\": 4.5}}.");
        if (weights.FirstOrDefault(w => !(w.Value > 0 && double.IsFinite(w.Value))) is { Key: not null } bad)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{path}': the weight of '{InertText.Name(bad.Key)}' is {bad.Value}; weights must be positive, finite numbers."));
        return weights;
    }
}
