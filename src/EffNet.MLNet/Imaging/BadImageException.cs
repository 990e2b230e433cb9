namespace EffNet.MLNet.Imaging;

/// <summary>
/// An image that cannot be used: not an image, damaged, truncated, too large. The one exception
/// type every entry point throws for bad image input, so a web app can map it to a 400 response.
/// </summary>
public sealed class BadImageException : IOException
{
    /// <summary>An image named <paramref name="inputName"/> is unusable for <paramref name="reason"/>.</summary>
    /// <param name="inputName">The caller's name for the input: a file path, an upload's file name.</param>
    /// <param name="reason">What is wrong with it, as a phrase ("is empty (0 bytes)").</param>
    /// <param name="inner">The underlying error, if any.</param>
    public BadImageException(string inputName, string reason, Exception? inner = null)
        : base($"'{inputName}' {reason}.", inner)
    {
        InputName = inputName;
        Reason = reason;
    }

    /// <summary>The caller's name for the image.</summary>
    public string InputName { get; }

    /// <summary>What is wrong with it.</summary>
    public string Reason { get; }

    /// <summary>The image and reason as a <see cref="BadImage"/> for reports.</summary>
    public BadImage ToBadImage() => new(InputName, Reason);
}
