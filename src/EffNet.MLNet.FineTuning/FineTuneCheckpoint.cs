using EffNet.MLNet.FineTuning.Optimization;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// The state after an epoch, written atomically: every parameter, the optimizer's buffers, the
/// steps and the epoch history, as one .safetensors file. <c>--resume</c> reads it back and
/// checks every tensor against the network it is meant for.
/// </summary>
internal static class FineTuneCheckpoint
{
    private const string Parameter = "parameter.";
    private const string State = "optimizer.";

    // Loss, accuracy, images/s, seconds, remaining seconds, validation loss and accuracy (NaN without), improved (0/1).
    private const int Columns = 8;

    public static void Save(string path, NetworkParameters p, Optimizer optimizer, IReadOnlyList<FineTuneEpoch> history, string settings)
    {
        var floats = new List<(string, int[], float[])>();
        floats.AddRange(p.Values.Select(kv => (Parameter + kv.Key, p.Shapes[kv.Key], kv.Value)));
        floats.AddRange(optimizer.State.Select(kv => (State + kv.Key, new[] { kv.Value.Length }, kv.Value)));
        floats.Add(("history", new[] { history.Count, Columns }, history.SelectMany(h => new[]
        {
            (float)h.Loss, (float)h.Accuracy, (float)h.ImagesPerSecond, (float)h.Seconds, (float)h.RemainingSeconds,
            (float)(h.ValidationLoss ?? double.NaN), (float)(h.ValidationAccuracy ?? double.NaN), h.Improved ? 1f : 0f,
        }).ToArray()));
        // The settings a resumed run must share, as UTF-16 code units (exact in float32).
        floats.Add(("settings", new[] { settings.Length }, settings.Select(c => (float)c).ToArray()));
        StateDictWriter.Write(path, floats, [("steps", optimizer.Steps), ("epochs", history.Count)]);
    }

    /// <summary>
    /// Restore <paramref name="p"/> and <paramref name="optimizer"/>; the epochs already done, and the settings the run was
    /// made with (null from a checkpoint written before they were kept).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this network and optimizer.</exception>
    public static List<FineTuneEpoch> Load(string path, NetworkParameters p, Optimizer optimizer, out string? settings)
    {
        IReadOnlyDictionary<string, CheckpointTensor> tensors;
        try { tensors = SafetensorsReader.Read(path); }
        catch (CheckpointFormatException e) { throw new InvalidDataException($"'{path}' is not a fine-tuning checkpoint: {e.Message}"); }
        foreach (var (name, values) in p.Values)
        {
            if (!tensors.TryGetValue(Parameter + name, out var t) || t.Data.Length != values.Length)
                throw new InvalidDataException($"'{path}' is a checkpoint of another network: tensor '{name}' is missing or of another size.");
            t.Data.CopyTo(values, 0);
        }
        optimizer.State.Clear();
        foreach (var (name, t) in tensors.Where(kv => kv.Key.StartsWith(State, StringComparison.Ordinal)))
        {
            var key = name[State.Length..];
            var parameter = key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..];
            if (!p.Values.TryGetValue(parameter, out var v) || v.Length != t.Data.Length)
                throw new InvalidDataException($"'{path}' holds optimizer state for '{parameter}', which this network does not have.");
            optimizer.State[key] = t.Data;
        }
        if (!tensors.TryGetValue("steps", out var steps) || !tensors.TryGetValue("history", out var h) || h.Shape.Length != 2 || h.Shape[1] is not (5 or Columns))
            throw new InvalidDataException($"'{path}' is not a fine-tuning checkpoint (no steps or history).");
        optimizer.Steps = (int)steps.Data[0];
        settings = tensors.TryGetValue("settings", out var s) ? new string(s.Data.Select(c => (char)c).ToArray()) : null;
        var history = new List<FineTuneEpoch>();
        var columns = h.Shape[1];
        for (var e = 0; e < h.Shape[0]; e++)
        {
            var r = h.Data.AsSpan(e * columns, columns);
            var epoch = new FineTuneEpoch(e + 1, r[0], r[1], r[2], r[3], r[4]);
            if (columns == Columns && !float.IsNaN(r[5]))
                epoch = epoch with { ValidationLoss = r[5], ValidationAccuracy = r[6], Improved = r[7] != 0 };
            history.Add(epoch);
        }
        return history;
    }
}
