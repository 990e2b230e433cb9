using System.Text.Json;

namespace EffNet.MLNet.Tests;

/// <summary>The CLI as a .NET tool: packed by scripts/pack-tool.sh, installed with <c>dotnet tool install</c>, run as <c>effnet</c>.</summary>
public class ToolPackageTests
{
    [Fact]
    [Trait("Category", "Slow")]   // packing builds the CLI from scratch in a scratch folder: ~80 s on 2 cores
    public void The_packed_tool_installs_into_a_tool_path_and_runs_as_effnet()
    {
        using var dir = new TempDir();
        var feed = dir.File("feed");
        // A version no earlier run used, so no stale package of the same version can come from the NuGet cache.
        var version = "0.1.0-test." + Guid.NewGuid().ToString("N")[..12];
        var pack = ProcessRunner.Run("bash", [Path.Combine(RepoPaths.Root, "scripts", "pack-tool.sh"), feed],
            new Dictionary<string, string> { ["EFFNET_TOOL_VERSION"] = version });
        Assert.True(pack.Code == 0, pack.Err);
        Assert.Equal(Path.GetFullPath(feed), pack.Out.Trim());
        Assert.True(File.Exists(Path.Combine(feed, $"effnet.{version}.nupkg")), string.Join(", ", Directory.GetFiles(feed)));

        var tools = dir.File("tools");
        var install = ProcessRunner.Run("dotnet", ["tool", "install", "--tool-path", tools, "--add-source", feed, "effnet", "--version", version],
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = dir.File("nuget-cache"), ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" });
        Assert.True(install.Code == 0, install.Out + install.Err);

        var effnet = Path.Combine(tools, "effnet");
        var home = new Dictionary<string, string> { ["EFFNET_HOME"] = dir.File("home") };
        var printed = ProcessRunner.Run(effnet, ["--version"], home);
        Assert.Equal(0, printed.Code);
        Assert.Equal(version, printed.Out.Trim());

        var describe = ProcessRunner.Run(effnet, ["describe", "b0", "b7", "--json"], home);
        Assert.True(describe.Code == 0, describe.Err);
        var rows = JsonDocument.Parse(describe.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal([5_288_548L, 66_347_960], rows.Select(r => r.GetProperty("params").GetInt64()));
        var table = ProcessRunner.Run(effnet, ["describe"], new Dictionary<string, string> { ["COLUMNS"] = "200", ["EFFNET_HOME"] = dir.File("home") });
        Assert.Equal(0, table.Code);
        Assert.Contains("66,347,960", table.Out);

        var strict = ProcessRunner.Run(effnet, ["describe", "--jsn"], home);
        Assert.Equal(2, strict.Code);
    }
}
