namespace EffNet.MLNet.FineTuning.Optimization;

/// <summary>
/// Updates parameters in place from their gradients, with PyTorch's semantics. Weight decay
/// applies to convolution and linear weights (rank &gt; 1) only; batch-norm scales and shifts and
/// biases are not decayed.
/// </summary>
internal abstract class Optimizer
{
    /// <summary>Named state tensors (momentum, moments) by "KIND.PARAMETER", for checkpoints.</summary>
    public Dictionary<string, float[]> State { get; } = new(StringComparer.Ordinal);

    /// <summary>Steps taken so far.</summary>
    public int Steps { get; set; }

    public abstract string Name { get; }

    /// <summary>One step over <paramref name="names"/> at learning rate <paramref name="lr"/>.</summary>
    public void Step(NetworkParameters parameters, IReadOnlyDictionary<string, float[]> gradients, IEnumerable<string> names, double lr)
    {
        Steps++;
        foreach (var name in names)
        {
            var decays = parameters.Shapes[name].Length > 1;
            Update(name, parameters.Values[name], gradients[name], lr, decays);
        }
    }

    protected abstract void Update(string name, float[] p, float[] g, double lr, bool decays);

    protected float[] Buffer(string kind, string name, int length, out bool created)
    {
        var key = kind + "." + name;
        created = !State.TryGetValue(key, out var buffer);
        if (created) State[key] = buffer = new float[length];
        return buffer!;
    }
}
