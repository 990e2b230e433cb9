using System.Globalization;
using EffNet.MLNet.FineTuning.Graph;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// What a resumed run must share with the run its checkpoint came from: everything that decides which images train,
/// how they are drawn, which tensors train and how the optimizer moves them. The learning rate, the number of epochs
/// (not below those done), the time budget, the patience and the thread count may change: a run can be resumed with
/// a lower learning rate after it diverged, or for longer.
/// </summary>
internal static class ResumeSettings
{
    public static string Of(FineTuneOptions o, TrainingGraphOptions graph, IReadOnlyList<string> labels, bool randomStart)
    {
        var inv = CultureInfo.InvariantCulture;
        var lines = new (string Name, string Value)[]
        {
            ("labels", string.Join(", ", labels)),
            ("start", randomStart ? string.Create(inv, $"random weights (seed {o.RandomStartSeed})") : "a checkpoint"),
            ("resolution", o.Resolution.ToString(inv)),
            ("unfreeze", o.Unfreeze.ToString()),
            ("batch size", o.BatchSize.ToString(inv)),
            ("optimizer", o.Optimizer.ToLowerInvariant()),
            ("weight decay", o.WeightDecay.ToString("R", inv)),
            ("momentum", o.Momentum.ToString("R", inv)),
            ("label smoothing", o.LabelSmoothing.ToString("R", inv)),
            ("warm-up epochs", o.WarmupEpochs.ToString(inv)),
            ("seed", o.Seed.ToString(inv)),
            ("validation fraction", o.ValidationFraction.ToString("R", inv)),
            ("augmentation", o.Augmentation.ToString().ToLowerInvariant()),
            ("flips", o.HorizontalFlip ? "on" : "off"),
            ("batch-norm", graph.TrainBatchNorm ? "trained" : "frozen"),
            ("drop-path", o.DropPathRate.ToString("R", inv)),
            ("dropout", o.DropoutRate.ToString("R", inv)),
            ("class weights", graph.ClassWeights is { } w ? string.Join(", ", w.Select(x => x.ToString("R", inv))) : "none"),
        };
        return string.Join("\n", lines.Select(l => l.Name + ": " + l.Value));
    }

    /// <exception cref="ArgumentException">The run asks for other settings than the checkpoint's, or for fewer epochs than it holds.</exception>
    public static void Check(string checkpoint, string? resumed, string current, int epochsDone, int epochs)
    {
        if (epochsDone > epochs)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"'{checkpoint}' records {epochsDone} finished epoch{(epochsDone == 1 ? "" : "s")}; this run asks for {epochs} in all. Ask for at least {epochsDone}."));
        if (resumed is null || resumed == current) return;
        var before = Parse(resumed);
        var now = Parse(current);
        var differences = now.Where(kv => !before.TryGetValue(kv.Key, out var v) || v != kv.Value)
            .Select(kv => $"{kv.Key} {(before.TryGetValue(kv.Key, out var v) ? v : "(not recorded)")} then, {kv.Value} now");
        throw new ArgumentException($"'{checkpoint}' was made with other settings than this run's ({string.Join("; ", differences)}). " +
            "Resume with the settings it was made with, or start over.");
    }

    private static Dictionary<string, string> Parse(string settings) => settings.Split('\n')
        .Select(line => line.Split(": ", 2))
        .Where(parts => parts.Length == 2)
        .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
}
