using EffNet.MLNet.Weights;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli;

/// <summary>Turns exceptions into one clear line on stderr and the documented exit code.</summary>
internal static class ErrorReporter
{
    public static int Report(Exception ex, IReadOnlyList<string>? args = null)
    {
        // A parallel loop wraps what failed in it (a damaged image among thousands): report the first cause itself.
        if (ex is AggregateException aggregate && aggregate.Flatten().InnerExceptions is [var first, ..]) return Report(first, args);
        var (code, message) = ex switch
        {
            OperationCanceledException => (ExitCodes.Interrupted, Interrupt.Message),
            CommandParseException p => (ExitCodes.BadArguments, NameSuggestions.Explain(p.Message, args ?? [], EffNetApp.SettingsByCommand)),
            CommandRuntimeException or ArgumentException => (ExitCodes.BadArguments, ex.Message),
            FileNotFoundException f => (ExitCodes.MissingWeights, f.Message),
            Catalog.WeightsUnavailableException w => (ExitCodes.MissingWeights, w.Message),
            CheckpointFormatException c => (ExitCodes.BadData, c.Message),
            InvalidDataException d => (ExitCodes.BadData, d.Message),
            Imaging.BadImageException b => (ExitCodes.BadData, b.Message),
            FineTuning.FineTuningDivergedException d => (ExitCodes.BadArguments, d.Message + " (--lr)"),
            _ => (ExitCodes.Unexpected, ex.ToString()),
        };
        var stderr = RedirectedWidth.Stderr();
        stderr.MarkupLine($"[red]error:[/] {Inert.Markup(FlagWording.ForCommandLine(message))}");
        return code;
    }
}
