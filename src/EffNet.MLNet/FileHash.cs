using System.Security.Cryptography;

namespace EffNet.MLNet;

/// <summary>SHA-256 of a file, as lower-case hex: checkpoint identity, download checks, feature-cache keys.</summary>
internal static class FileHash
{
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
