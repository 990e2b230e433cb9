namespace EffNet.MLNet.Weights;

/// <summary>
/// The most tensor data one load may read from a checkpoint. Every read is charged before
/// its buffer is allocated, so a file that describes more data than the network it is loaded
/// into can hold is refused instead of exhausting memory.
/// </summary>
internal sealed class ReadBudget
{
    /// <summary>
    /// Limit for reading a checkpoint without an architecture to check it against: about four
    /// times the float32 size of EfficientNet-B7 (66 M values, 265 MB).
    /// </summary>
    public const long UnplannedLimitBytes = 1L << 30;

    private readonly string _path;
    private readonly string _reason;
    private long _used;

    public ReadBudget(string path, long limitBytes, string reason)
    {
        _path = path;
        LimitBytes = limitBytes;
        _reason = reason;
    }

    public long LimitBytes { get; }

    public long UsedBytes => _used;

    /// <summary>A budget for reading a whole checkpoint without an architecture.</summary>
    public static ReadBudget Unplanned(string path) => new(path, UnplannedLimitBytes, "the limit for reading a checkpoint on its own");

    /// <summary>Account for <paramref name="bytes"/> about to be read for tensor <paramref name="name"/>, or refuse.</summary>
    public void Charge(long bytes, string name)
    {
        if (bytes < 0 || bytes > LimitBytes - _used)
            throw new CheckpointFormatException(_path,
                $"tensor '{name}' needs {bytes:N0} bytes of data after {_used:N0} already read, over the {LimitBytes:N0}-byte cap ({_reason}); the file describes more data than the network holds, so it was refused before reading it.");
        _used += bytes;
    }
}
