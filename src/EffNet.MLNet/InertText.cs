using System.Globalization;
using System.Text;

namespace EffNet.MLNet;

/// <summary>
/// Makes a string that came from outside (a label, a file or folder name, a field of a model)
/// safe to print or write: control characters (C0, DEL, C1), which would let a name clear a
/// terminal, set its title, or add a line or a column to a TSV, are shown as escapes
/// (<c>\n</c>, <c>\t</c>, <c>\x1b</c>), as are the invisible Unicode controls that reorder
/// or split lines; and a huge string is cut in the middle.
/// </summary>
internal static class InertText
{
    /// <summary>The longest name shown whole; longer ones keep their start and end.</summary>
    public const int MaxNameLength = 300;

    /// <summary>The longest message line shown whole.</summary>
    public const int MaxLineLength = 2000;

    /// <summary>A name (path, label) escaped and cut to <see cref="MaxNameLength"/>.</summary>
    public static string Name(string? text) => Cut(Escape(text), MaxNameLength);

    /// <summary>A message line escaped and cut to <see cref="MaxLineLength"/>.</summary>
    public static string Line(string? text) => Cut(Escape(text), MaxLineLength);

    /// <summary><paramref name="text"/> with every control character escaped; unchanged when it has none.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        if (!text.Any(IsControl)) return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!IsControl(c)) { sb.Append(c); continue; }
            sb.Append(c switch
            {
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                < '\u0100' => string.Create(CultureInfo.InvariantCulture, $@"\x{(int)c:x2}"),
                _ => string.Create(CultureInfo.InvariantCulture, $@"\u{(int)c:x4}"),
            });
        }
        return sb.ToString();
    }

    /// <summary>True when <paramref name="text"/> holds a character <see cref="Escape"/> would change.</summary>
    public static bool HasControl(string? text) => text is not null && text.Any(IsControl);

    /// <summary><paramref name="text"/> cut to at most about <paramref name="max"/> characters, keeping both ends.</summary>
    public static string Cut(string text, int max)
    {
        if (text.Length <= max) return text;
        var keep = Math.Max(2, max - 40);
        var head = keep * 2 / 3;
        var tail = keep - head;
        return string.Create(CultureInfo.InvariantCulture, $"{text[..head]}…({text.Length - head - tail:N0} characters cut)…{text[^tail..]}");
    }

    // C0, DEL and C1 controls; the bidirectional overrides and isolates; the line and paragraph separators.
    private static bool IsControl(char c) =>
        c < ' ' || c is >= '\u007f' and <= '\u009f' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069' || c is '\u2028' or '\u2029';
}
