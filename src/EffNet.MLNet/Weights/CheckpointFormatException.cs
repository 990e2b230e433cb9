namespace EffNet.MLNet.Weights;

/// <summary>
/// A checkpoint (or other model file) could not be used: it is corrupt, truncated, of an
/// unsupported kind, refers to code a weights file never needs, or does not fit the
/// architecture. The message names the file and the problem.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    /// <summary>Create the exception for <paramref name="path"/>.</summary>
    public CheckpointFormatException(string path, string problem, Exception? inner = null)
        : base($"'{path}': {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file that was being read.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; }
}
