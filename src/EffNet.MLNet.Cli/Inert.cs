namespace EffNet.MLNet.Cli;

/// <summary>Strings from outside made safe for Spectre.Console: control characters escaped (InertText), then markup brackets.</summary>
internal static class Inert
{
    /// <summary>A message or cell: escaped, cut at <see cref="InertText.MaxLineLength"/>, markup-escaped.</summary>
    public static string Markup(string? text) => Spectre.Console.Markup.Escape(InertText.Line(text));

    /// <summary>A file name or label: escaped, cut at <see cref="InertText.MaxNameLength"/>, markup-escaped.</summary>
    public static string Name(string? text) => Spectre.Console.Markup.Escape(InertText.Name(text));
}
