namespace EffNet.MLNet.Cli;

/// <summary>
/// Library errors name the C# properties a caller sets; on the command line the same remedy is a
/// flag. Each phrase is replaced whole (the library keeps them in <see cref="OptionWording"/>), so
/// the rest of the message, file names included, is left exactly as the library wrote it.
/// </summary>
internal static class FlagWording
{
    private static readonly (string Library, string CommandLine)[] Phrases =
    [
        (OptionWording.NoWeightsRemedy, "pass a checkpoint (--weights FILE) or --random-init"),
        (OptionWording.TimmFamilyRemedy, "--weights-family timm or timm-tf"),
        (OptionWording.SweepRandomWeightsRemedy, "--random-init"),
    ];

    public static string ForCommandLine(string message)
    {
        foreach (var (library, commandLine) in Phrases)
            message = message.Replace(library, commandLine, StringComparison.Ordinal);
        return message;
    }
}
