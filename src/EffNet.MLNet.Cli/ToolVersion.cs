using System.Reflection;

namespace EffNet.MLNet.Cli;

/// <summary>The version <c>effnet --version</c> prints: the package version the tool was built with.</summary>
internal static class ToolVersion
{
    public static string Current { get; } =
        typeof(ToolVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(ToolVersion).Assembly.GetName().Version?.ToString() ?? "unknown";
}
