using System.Globalization;
using Spectre.Console;

namespace EffNet.MLNet.Cli;

/// <summary>
/// Output sent to a file or a pipe (a job left running with <c>&gt; train.log</c>) has no terminal width; the
/// console would wrap every line at 80 columns, splitting a figure from its name. There, lines run to
/// <c>COLUMNS</c> when it is set, and otherwise are not wrapped at all in practice.
/// </summary>
internal static class RedirectedWidth
{
    public const int Unwrapped = 1000;

    public static void Apply()
    {
        if (!Console.IsOutputRedirected) return;
        var columns = Environment.GetEnvironmentVariable("COLUMNS");
        AnsiConsole.Profile.Width = int.TryParse(columns, NumberStyles.None, CultureInfo.InvariantCulture, out var width) && width >= 40 ? width : Unwrapped;
    }
}
