using Spectre.Console;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>The --data check shared by train, evaluate and retrain.</summary>
internal static class DataSource
{
    public static ValidationResult Validate(string? data) =>
        string.IsNullOrWhiteSpace(data) ? ValidationResult.Error("--data DIR|MANIFEST is required.")
        : !Directory.Exists(data) && !File.Exists(data) ? ValidationResult.Error($"--data '{data}' is neither a folder nor a manifest file.")
        : ValidationResult.Success();
}
