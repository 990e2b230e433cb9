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

    private readonly Dictionary<string, (string Path, PooledPredictorOptions Options)> _registered = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PooledPredictor> _loaded = new(StringComparer.Ordinal);

    /// <summary>
    /// The model registered as <paramref name="name"/>, loaded on first use. A load that fails (the
    /// file missing or not a model yet) is not remembered: the next request tries again.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No model has that name; the message lists the names there are.</exception>
    public PooledPredictor this[string name]
    {
        get
        {
            lock (_loaded)
            {
                if (_loaded.TryGetValue(name, out var model)) return model;
                if (!_registered.TryGetValue(name, out var registration))
                    throw new KeyNotFoundException($"No image classifier is registered as '{name}' (registered: {string.Join(", ", _registered.Keys)}).");
                model = new PooledPredictor(registration.Path, registration.Options);
                _loaded[name] = model;
                return model;
            }
        }
    }

    /// <summary>The model registered without a name.</summary>
    public PooledPredictor Default => this[DefaultName];

    /// <summary>The registered names.</summary>
    public IReadOnlyCollection<string> Names => _registered.Keys;

    internal void Add(string name, string modelPath, PooledPredictorOptions options)
    {
        if (!_registered.TryAdd(name, (modelPath, options))) throw new InvalidOperationException($"An image classifier is already registered as '{name}'.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_loaded)
        {
            foreach (var model in _loaded.Values) model.Dispose();
            _loaded.Clear();
        }
    }
}
