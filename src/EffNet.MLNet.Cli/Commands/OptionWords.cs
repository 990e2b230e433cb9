namespace EffNet.MLNet.Cli.Commands;

/// <summary>
/// The words an option such as <c>--precision</c> accepts and the values they stand for, matched
/// without regard to case; any other word is refused naming the allowed ones and the closest.
/// </summary>
internal sealed class OptionWords<T>(string flag, string allowed, params (string Word, T Value)[] words) where T : struct, Enum
{
    private readonly Dictionary<string, T> _values = words.ToDictionary(w => w.Word, w => w.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every option named with "one of" its words.</summary>
    public OptionWords(string flag, params (string Word, T Value)[] words)
        : this(flag, "one of " + string.Join(", ", words.Select(w => w.Word)), words)
    {
    }

    /// <summary>Why <paramref name="word"/> is not accepted, or null when it is.</summary>
    public string? Problem(string word)
    {
        if (_values.ContainsKey(word)) return null;
        var closest = NameSuggestions.Closest(word.ToLowerInvariant(), _values.Keys);
        return $"{flag} must be {allowed}, not '{word}'." + (closest is null ? "" : $" Did you mean {closest}?");
    }

    /// <summary>The value an accepted <paramref name="word"/> stands for.</summary>
    public T Parse(string word) => _values[word];
}
