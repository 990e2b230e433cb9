namespace EffNet.MLNet.Weights;

/// <summary>Opens a checkpoint by its content: a PyTorch zip, or safetensors.</summary>
public static class CheckpointReader
{
    /// <summary>Read every tensor of a <c>.pth</c>/<c>.pt</c> or <c>.safetensors</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a usable checkpoint.</exception>
    public static IReadOnlyDictionary<string, CheckpointTensor> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new CheckpointFormatException(path, "this is a directory, not a checkpoint file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        return path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
            ? SafetensorsReader.Read(path)
            : PthCheckpointReader.Read(path);
    }
}
