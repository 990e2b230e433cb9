namespace EffNet.MLNet.Catalog;

/// <summary>
/// Pretrained weights could not be had: offline, refused by the server, or the download did not
/// match its published hash. The message says which file to place where.
/// </summary>
public sealed class WeightsUnavailableException : Exception
{
    /// <summary>Create the exception.</summary>
    public WeightsUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
