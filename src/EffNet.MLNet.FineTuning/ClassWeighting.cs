using System.Globalization;
using EffNet.MLNet.FineTuning.Data;

namespace EffNet.MLNet.FineTuning;

/// <summary>Per-class weights of the fine-tuning loss, as PyTorch's <c>CrossEntropyLoss(weight=…)</c> applies them.</summary>
public sealed class ClassWeighting
{
    private ClassWeighting(bool balanced, IReadOnlyDictionary<string, double>? weights)
    {
        Balanced = balanced;
        Weights = weights;
    }

    /// <summary>Every class weighs 1.</summary>
    public static ClassWeighting None { get; } = new(false, null);

    /// <summary>Inverse class frequency in the training images, n / (k·n_c), so every class carries the same total weight.</summary>
    public static ClassWeighting Auto { get; } = new(true, null);

    /// <summary>A weight per label; every label of the data must be named.</summary>
    public static ClassWeighting Explicit(IReadOnlyDictionary<string, double> weightsByLabel)
    {
        ArgumentNullException.ThrowIfNull(weightsByLabel);
        foreach (var (label, w) in weightsByLabel)
            if (!(w >= 0 && double.IsFinite(w)))
                throw new ArgumentOutOfRangeException(nameof(weightsByLabel), w, $"The weight of class '{label}' must be a finite number ≥ 0.");
        return new ClassWeighting(false, new Dictionary<string, double>(weightsByLabel, StringComparer.Ordinal));
    }

    /// <summary>Whether the weights are the inverse class frequencies.</summary>
    public bool Balanced { get; }

    /// <summary>The explicit weights by label, or null.</summary>
    public IReadOnlyDictionary<string, double>? Weights { get; }

    /// <summary>Parse <c>none</c> or <c>auto</c>; null otherwise.</summary>
    public static ClassWeighting? TryParse(string? text) =>
        string.Equals(text, "none", StringComparison.OrdinalIgnoreCase) ? None
        : string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase) ? Auto
        : null;

    /// <inheritdoc />
    public override string ToString() => Balanced ? "auto" : Weights is null ? "none"
        : string.Join(",", Weights.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value.ToString("g6", CultureInfo.InvariantCulture)));

    /// <summary>The weight of each class index (labels in index order), or null for none.</summary>
    internal float[]? Resolve(IReadOnlyList<string> labels, IEnumerable<int> trainingLabels)
    {
        if (Balanced) return ClassWeights.InverseFrequency(trainingLabels, labels.Count);
        if (Weights is null) return null;
        var missing = labels.Where(l => !Weights.ContainsKey(l)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"The class weights name no weight for {string.Join(", ", missing.Select(m => "'" + m + "'"))}.");
        var unknown = Weights.Keys.Where(k => !labels.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"The class weights name {string.Join(", ", unknown.Select(m => "'" + m + "'"))}, which the data does not have.");
        var result = labels.Select(l => (float)Weights[l]).ToArray();
        if (result.All(w => w == 0)) throw new ArgumentException("The class weights are all zero.");
        return result;
    }
}
