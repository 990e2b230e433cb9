namespace EffNet.MLNet.Weights;

/// <summary>Opens a checkpoint by its content: a PyTorch zip, or safetensors.</summary>
public static class CheckpointReader
{
    /// <summary>
    /// Read every tensor of a <c>.pth</c>/<c>.pt</c> or <c>.safetensors</c> file. Without an
    /// architecture to check shapes against, at most 1 GiB of tensor data is read;
    /// <see cref="CheckpointLoader.Load"/> checks every shape first and reads only what the network holds.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a usable checkpoint.</exception>
    public static IReadOnlyDictionary<string, CheckpointTensor> Read(string path)
    {
        using var index = CheckpointIndex.Open(path);
        return index.ReadAll(ReadBudget.Unplanned(path));
    }
}
