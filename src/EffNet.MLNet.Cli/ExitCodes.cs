namespace EffNet.MLNet.Cli;

/// <summary>Process exit codes, listed in <c>effnet --help</c>.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Unexpected = 1;
    public const int BadArguments = 2;
    public const int BadData = 3;
    public const int MissingWeights = 4;
    public const int Interrupted = 130; // 128 + SIGINT, as shells report a Ctrl+C

    public const string Help =
        "Exit codes: 0 success, 1 unexpected error, 2 bad arguments, 3 bad data (unreadable images or checkpoint), 4 missing weights (file absent or download impossible), 130 interrupted (Ctrl+C).";
}
