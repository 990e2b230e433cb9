namespace EffNet.MLNet.Weights;

/// <summary>What a checkpoint says about one tensor, known before any of its data is read.</summary>
internal sealed record TensorEntry(string Name, int[] Shape, ElementType Type)
{
    public long ElementCount => CheckpointTensor.ElementCount(Shape);
}

/// <summary>
/// A checkpoint opened in two steps: first the names, shapes and element types of its tensors
/// (read from the pickle or the header alone, and checked for views that repeat or overlap
/// bytes), then the data of the tensors a caller asks for, each read charged to a
/// <see cref="ReadBudget"/>. So a caller can refuse a file on its shapes before allocating
/// anything for its data.
/// </summary>
internal abstract class CheckpointIndex : IDisposable
{
    protected CheckpointIndex(string path) => Path = path;

    /// <summary>The file (or, for tensors already in memory, the name given for them).</summary>
    public string Path { get; }

    /// <summary>Every tensor, by name, in file order.</summary>
    public abstract IReadOnlyDictionary<string, TensorEntry> Entries { get; }

    /// <summary>Read one tensor's values as float32, charging the bytes taken from the file to <paramref name="budget"/>.</summary>
    public abstract float[] Read(string name, ReadBudget budget);

    /// <summary>Open <paramref name="path"/> by its extension: <c>.safetensors</c>, else a PyTorch zip.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a usable checkpoint.</exception>
    public static CheckpointIndex Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new CheckpointFormatException(path, "this is a directory, not a checkpoint file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        return path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
            ? SafetensorsReader.Open(path)
            : PthCheckpointReader.Open(path);
    }

    /// <summary>Read every tensor within <paramref name="budget"/>.</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> ReadAll(ReadBudget budget)
    {
        var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var (name, entry) in Entries)
            tensors[name] = new CheckpointTensor(name, entry.Shape, Read(name, budget));
        return tensors;
    }

    public virtual void Dispose() { }
}

/// <summary>Tensors already in memory, seen through the same two steps.</summary>
internal sealed class InMemoryCheckpoint : CheckpointIndex
{
    private readonly IReadOnlyDictionary<string, CheckpointTensor> _tensors;

    public InMemoryCheckpoint(string source, IReadOnlyDictionary<string, CheckpointTensor> tensors) : base(source)
    {
        _tensors = tensors;
        Entries = tensors.ToDictionary(kv => kv.Key, kv => new TensorEntry(kv.Key, kv.Value.Shape, ElementType.Float32), StringComparer.Ordinal);
    }

    public override IReadOnlyDictionary<string, TensorEntry> Entries { get; }

    public override float[] Read(string name, ReadBudget budget) => _tensors[name].Data;
}
