using System.Security.Cryptography;
using System.Text;

namespace EffNet.MLNet.Training;

/// <summary>
/// A record's checksum: SHA-256, cut to 128 bits, over the featurizer identity, the vector length,
/// the image's content hash and the vector's bytes. A record damaged anywhere, or filed under
/// another identity or image, fails it.
/// </summary>
internal sealed class FeatureChecksum(string identity, int dimension)
{
    private const int Bytes = 16;
    private readonly byte[] _prefix = [.. Encoding.UTF8.GetBytes(identity), 0, .. BitConverter.GetBytes(dimension)];

    public byte[] Compute(ReadOnlySpan<byte> contentHash, ReadOnlySpan<byte> vector)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(_prefix);
        sha.AppendData(contentHash);
        sha.AppendData(vector);
        return sha.GetHashAndReset()[..Bytes];
    }

    public bool Matches(ReadOnlySpan<byte> contentHash, ReadOnlySpan<byte> vector, ReadOnlySpan<byte> checksum) =>
        checksum.Length == Bytes && checksum.SequenceEqual(Compute(contentHash, vector));
}
