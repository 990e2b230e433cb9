using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace EffNet.MLNet.Imaging;

/// <summary>
/// The SHA-256 of the bytes each row's image was decoded from, by row. A feature cache keys a vector
/// by the content it was computed from; hashing the file separately (before or after decoding) would
/// let a file replaced in between be cached under the other content's hash. So each image is read
/// into memory once, and these same bytes are hashed and decoded.
/// </summary>
internal sealed class DecodedContent
{
    private readonly ConcurrentDictionary<long, string> _hashes = new();

    /// <summary>Read the file at <paramref name="path"/> once, record the hash of its bytes for <paramref name="row"/>, and return them to decode.</summary>
    /// <exception cref="BadImageException">It is missing, a directory, or unreadable.</exception>
    public byte[] Read(long row, string path)
    {
        var bytes = OpenedImage.ReadFile(path);
        _hashes[row] = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return bytes;
    }

    /// <summary>The hash of the bytes row <paramref name="row"/> was decoded from; false if it was never read (a bad image).</summary>
    public bool TryGet(long row, out string hash) => _hashes.TryGetValue(row, out hash!);
}
