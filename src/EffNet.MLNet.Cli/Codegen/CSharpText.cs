using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EffNet.MLNet.Cli.Codegen;

/// <summary>
/// Text that goes into generated C#: labels come from folder names and manifests, so each is written
/// as a literal no content can break out of, and names the user gives must be plain identifiers.
/// </summary>
internal static partial class CSharpText
{
    private static readonly HashSet<string> Keywords =
    [
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while", "global", "System", "Microsoft", "EffNet",
    ];

    /// <summary>A regular string literal: quotes, backslashes and everything outside printable ASCII escaped.</summary>
    public static string Literal(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            if (c == '"') sb.Append("\\\"");
            else if (c == '\\') sb.Append("\\\\");
            else if (c is >= ' ' and <= '~') sb.Append(c);
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Why <paramref name="name"/> cannot be a namespace (dotted identifiers, no keyword), or null when it can.</summary>
    public static string? NamespaceProblem(string name)
    {
        if (name.Length is 0 or > 200) return $"--namespace '{InertText.Name(name)}' must be 1 to 200 characters.";
        foreach (var part in name.Split('.'))
        {
            if (!Identifier().IsMatch(part))
                return $"--namespace '{InertText.Name(name)}' is not a C# namespace: '{InertText.Name(part)}' must start with a letter or '_' and hold only ASCII letters, digits and '_'.";
            if (Keywords.Contains(part))
                return $"--namespace '{InertText.Name(name)}' uses '{part}', which is a C# keyword or a namespace the generated code uses; choose another name.";
        }
        return null;
    }

    /// <summary>A namespace made from a folder name: ASCII letters, digits and '_' kept, the rest dropped, a leading digit prefixed.</summary>
    public static string NamespaceFrom(string folderName)
    {
        var parts = folderName.Split('.', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => new string(p.Where(c => char.IsAsciiLetterOrDigit(c) || c == '_').ToArray()))
            .Where(p => p.Length > 0)
            .Select(p => char.IsAsciiDigit(p[0]) ? "_" + p : p)
            .Select(p => Keywords.Contains(p) ? p + "Model" : p)
            .ToList();
        return parts.Count == 0 ? "ImageClassification" : string.Join('.', parts);
    }

    /// <summary>Whether <paramref name="version"/> can be a NuGet package version (it is written into XML).</summary>
    public static bool IsPackageVersion(string version) => PackageVersion().IsMatch(version);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+){1,3}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex PackageVersion();
}
