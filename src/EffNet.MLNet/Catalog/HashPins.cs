using System.Globalization;

namespace EffNet.MLNet.Catalog;

/// <summary>
/// What a checkpoint's SHA-256 must be: it must start with the published prefix, and equal
/// every full hash pinned for it — the catalog's, and a user's <c>FILE.sha256</c> beside the
/// file in the cache (the first word of its first line, as <c>sha256sum FILE &gt; FILE.sha256</c>
/// writes it).
/// </summary>
internal sealed class HashPins
{
    private readonly PretrainedWeights _entry;
    private readonly List<(string Source, string Hash)> _pins = [];

    private HashPins(PretrainedWeights entry) => _entry = entry;

    /// <summary>The user's pin file for a cached checkpoint.</summary>
    public static string PinFile(string target) => target + ".sha256";

    /// <summary>Gather the pins for <paramref name="entry"/>, cached at <paramref name="target"/>.</summary>
    /// <exception cref="WeightsUnavailableException">A pin is not a SHA-256.</exception>
    public static HashPins For(PretrainedWeights entry, string target)
    {
        var pins = new HashPins(entry);
        if (entry.Sha256 is { } known) pins.Add("the catalog", known, "the catalog entry");
        var file = PinFile(target);
        if (File.Exists(file))
        {
            var word = File.ReadLines(file).FirstOrDefault()?.Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            pins.Add($"'{file}'", word, $"'{file}'");
        }
        return pins;
    }

    /// <summary>Whether any full hash is pinned.</summary>
    public bool AnyFullHash => _pins.Count > 0;

    /// <summary>Why <paramref name="sha256"/> is not acceptable, or null when it is.</summary>
    public string? Problem(string sha256)
    {
        if (!sha256.StartsWith(_entry.Sha256Prefix, StringComparison.Ordinal))
            return $"has SHA-256 {sha256}, which does not start with the published {_entry.Sha256Prefix}";
        foreach (var (source, hash) in _pins)
            if (!string.Equals(sha256, hash, StringComparison.Ordinal))
                return $"has SHA-256 {sha256}, but {source} pins {hash}";
        return null;
    }

    private void Add(string source, string hash, string where)
    {
        var normalised = hash.ToLowerInvariant();
        if (normalised.Length != 64 || !normalised.All(char.IsAsciiHexDigit))
            throw new WeightsUnavailableException(
                $"{char.ToUpper(where[0], CultureInfo.InvariantCulture)}{where[1..]} should pin the SHA-256 of {_entry.FileName} (64 hex digits) but holds '{Shorten(hash)}'; correct it (sha256sum {_entry.FileName} > {_entry.FileName}.sha256) or delete it.");
        _pins.Add((source, normalised));
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
