using System.Text.Json;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Sweep;

/// <summary>What a sweep found: every variant's accuracy, cost and size, the Pareto frontier and the recommendation. Saved as <c>sweep.json</c>.</summary>
public sealed record SweepResult
{
    /// <summary>Format version of <c>sweep.json</c>.</summary>
    public int FormatVersion { get; init; } = 2;

    /// <summary>Usable images swept over.</summary>
    public required int Images { get; init; }

    /// <summary>Class names.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>Whether the weights were seeded random ones.</summary>
    public required bool RandomInit { get; init; }

    /// <summary>What the accuracies can be taken to mean, said plainly when the weights are random; null otherwise.</summary>
    public string? Warning { get; init; }

    /// <summary><c>fp32</c> or <c>int8</c>.</summary>
    public required string Precision { get; init; }

    /// <summary>Cross-validation folds.</summary>
    public required int Folds { get; init; }

    /// <summary>How each variant's 95% accuracy interval was computed (<see cref="FoldStatistics.Method"/>).</summary>
    public string Interval { get; init; } = FoldStatistics.Method;

    /// <summary>
    /// With int8, the images the activation ranges were calibrated on: drawn from the data, then kept in the
    /// training part of every fold and never scored, so no accuracy is measured on an image the network was
    /// calibrated on. 0 for fp32.
    /// </summary>
    public int CalibrationImages { get; init; }

    /// <summary>The linear probe, e.g. <c>lbfgs</c>.</summary>
    public required string Trainer { get; init; }

    /// <summary>The time budget in seconds, if one was given.</summary>
    public double? TimeBudgetSeconds { get; init; }

    /// <summary>Whether the time budget stopped the sweep before every variant was tried.</summary>
    public bool StoppedByTimeBudget { get; init; }

    /// <summary>The cost limit of the recommendation, if one was given.</summary>
    public double? MaxMillisecondsPerImage { get; init; }

    /// <summary>Where the costs were measured: logical cores and operating system.</summary>
    public required string Machine { get; init; }

    /// <summary>Every variant, smallest first, evaluated or skipped.</summary>
    public required IReadOnlyList<VariantResult> Variants { get; init; }

    /// <summary>The variants on the accuracy-against-cost frontier, fastest first.</summary>
    public required IReadOnlyList<string> ParetoFrontier { get; init; }

    /// <summary>The recommended variant and why.</summary>
    public required SweepRecommendation Recommendation { get; init; }

    /// <summary>Images left out as unusable, with the reason.</summary>
    public IReadOnlyList<Imaging.BadImage> BadImages { get; init; } = [];

    /// <summary>Wall-clock seconds of the whole sweep.</summary>
    public double Seconds { get; init; }

    /// <summary>Write as indented JSON through a temporary file (readers never see half of it).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>The JSON of <c>sweep.json</c>.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ModelReport.Json);

    /// <summary>Read a <c>sweep.json</c>.</summary>
    /// <exception cref="InvalidDataException">The file is not a sweep result.</exception>
    public static SweepResult Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<SweepResult>(File.ReadAllText(path), ModelReport.Json)
                ?? throw new InvalidDataException($"'{path}' is not a sweep result.");
        }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not a sweep result: {e.Message}", e); }
    }
}
