using System.Globalization;

namespace EffNet.MLNet.Cli.Commands;

/// <summary><c>--time-budget SECONDS</c> of train and sweep.</summary>
internal static class TimeBudgetOption
{
    /// <summary>
    /// What is wrong with <paramref name="seconds"/>, or null: a positive budget a TimeSpan can hold (about 317 years);
    /// NaN, infinity and 1e300 are not durations.
    /// </summary>
    public static string? Problem(double? seconds) => seconds is { } s && !(s > 0 && s <= 1e10)
        ? string.Create(CultureInfo.InvariantCulture, $"--time-budget must be positive and at most 1e10 seconds, not {s}.")
        : null;
}
