using System.Reflection;
using System.Text.RegularExpressions;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli;

/// <summary>
/// "Did you mean --top?" for an unknown option or command: the closest valid name by edit
/// distance, found from the settings classes themselves so it never falls out of date.
/// </summary>
internal static partial class NameSuggestions
{
    [GeneratedRegex("^Unknown option '(?<name>[^']+)'")]
    private static partial Regex UnknownOption();

    [GeneratedRegex("^Unknown command '(?<name>[^']+)'")]
    private static partial Regex UnknownCommand();

    /// <summary>The parse error's message with a suggestion appended, or unchanged when nothing is close.</summary>
    public static string Explain(string message, IReadOnlyList<string> args, IReadOnlyDictionary<string, Type> settingsByCommand)
    {
        if (UnknownCommand().Match(message) is { Success: true } c)
        {
            var closest = Closest(c.Groups["name"].Value, settingsByCommand.Keys);
            var commands = string.Join(", ", settingsByCommand.Keys);
            return closest is null
                ? $"{message} Commands: {commands}."
                : $"{message} Did you mean '{closest}'? Commands: {commands}.";
        }
        if (UnknownOption().Match(message) is { Success: true } o)
        {
            var command = args.FirstOrDefault(settingsByCommand.ContainsKey);
            if (command is null) return message;
            var name = o.Groups["name"].Value;
            var given = args.FirstOrDefault(a => a.TrimStart('-').Split('=', ':')[0] == name && a.StartsWith('-')) ?? "--" + name;
            var closest = Closest(given.Split('=', ':')[0], OptionNames(settingsByCommand[command]));
            return closest is null
                ? $"{message} See effnet {command} --help."
                : $"{message} Did you mean {closest}? See effnet {command} --help.";
        }
        return message;
    }

    /// <summary>Every spelling of every option a settings class declares, with its dashes (<c>--top</c>, <c>-h</c>).</summary>
    public static IEnumerable<string> OptionNames(Type settings) =>
        settings.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => p.GetCustomAttribute<CommandOptionAttribute>())
            .Where(a => a is not null)
            .SelectMany(a => a!.LongNames.Select(n => "--" + n).Concat(a.ShortNames.Select(n => "-" + n)))
            .Append("--help");

    /// <summary>The candidate nearest to <paramref name="given"/>, if it is near enough to be a typo.</summary>
    public static string? Closest(string given, IEnumerable<string> candidates)
    {
        var best = candidates.Select(c => (Name: c, Distance: Distance(given, c)))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal).FirstOrDefault();
        var core = given.TrimStart('-').Length;
        // Prefixes count as typos too: --valid → --validation-fraction.
        var prefix = candidates.Where(c => core >= 3 && c.TrimStart('-').StartsWith(given.TrimStart('-'), StringComparison.Ordinal)).ToList();
        if (best.Name is not null && best.Distance <= Math.Max(2, core / 3)) return best.Name;
        return prefix.Count == 1 ? prefix[0] : null;
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transpositions).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
