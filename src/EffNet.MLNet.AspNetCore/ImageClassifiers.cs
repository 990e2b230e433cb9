namespace EffNet.MLNet.AspNetCore;

/// <summary>
/// The image classifiers of an app, by name: each a <see cref="PooledPredictor"/> over one model
/// file, loaded once, shared by every request and reloaded when its file changes. Registered as a
/// singleton by <c>services.AddImageClassifier(…)</c>.
/// </summary>
public sealed class ImageClassifiers : IDisposable
{
    /// <summary>The name of the model registered without one.</summary>
    public const string DefaultName = "default";

    private readonly Dictionary<string, Lazy<PooledPredictor>> _models = new(StringComparer.Ordinal);

    /// <summary>The model registered as <paramref name="name"/> (loaded on first use).</summary>
    /// <exception cref="KeyNotFoundException">No model has that name; the message lists the names there are.</exception>
    public PooledPredictor this[string name] => _models.TryGetValue(name, out var model)
        ? model.Value
        : throw new KeyNotFoundException($"No image classifier is registered as '{name}' (registered: {string.Join(", ", _models.Keys)}).");

    /// <summary>The model registered without a name.</summary>
    public PooledPredictor Default => this[DefaultName];

    /// <summary>The registered names.</summary>
    public IReadOnlyCollection<string> Names => _models.Keys;

    internal void Add(string name, string modelPath, PooledPredictorOptions options)
    {
        if (_models.ContainsKey(name)) throw new InvalidOperationException($"An image classifier is already registered as '{name}'.");
        _models[name] = new Lazy<PooledPredictor>(() => new PooledPredictor(modelPath, options), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var model in _models.Values.Where(m => m.IsValueCreated)) model.Value.Dispose();
    }
}
