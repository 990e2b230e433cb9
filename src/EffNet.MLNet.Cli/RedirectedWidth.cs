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
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Width();
    }

    /// <summary>A console on standard error, with the same rule when that is redirected.</summary>
    public static IAnsiConsole Stderr()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected) console.Profile.Width = Width();
        return console;
    }

    private static int Width() =>
        int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var width) && width >= 40 ? width : Unwrapped;
}
