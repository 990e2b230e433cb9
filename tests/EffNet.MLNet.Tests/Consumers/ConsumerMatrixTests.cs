using System.Text.RegularExpressions;

namespace EffNet.MLNet.Tests.Consumers;

/// <summary>
/// Apps outside the solution, as a user makes them: <c>dotnet new console</c>, the packages from a freshly
/// packed local feed (scripts/pack.sh) added with the README's own commands, and the README's
/// <c>Program.cs</c> block compiled from the README text itself. The model it saves is then loaded by
/// stock-only programs on every ML.NET version the README says it serves.
/// </summary>
public partial class ConsumerMatrixTests(ConsumerMatrixTests.PackedLibrary packed) : IClassFixture<ConsumerMatrixTests.PackedLibrary>
{
    /// <summary>The three library packages packed once for this class, with a version no earlier run used.</summary>
    public sealed class PackedLibrary : IDisposable
    {
        private readonly TempDir _dir = new();

        public PackedLibrary()
        {
            Feed = _dir.File("feed");
            Version = "0.3.0-test." + Guid.NewGuid().ToString("N")[..12];
            var pack = ProcessRunner.Run("bash", [Path.Combine(RepoPaths.Root, "scripts", "pack.sh"), Feed],
                new Dictionary<string, string> { ["EFFNET_PACKAGE_VERSION"] = Version });
            Assert.True(pack.Code == 0, pack.Out + pack.Err);
            Assert.Equal([Path.GetFullPath(Feed), Version], pack.Out.Trim().Split('\n')[^2..]);
            foreach (var id in new[] { "EffNet.MLNet", "EffNet.MLNet.AspNetCore", "EffNet.MLNet.FineTuning" })
                Assert.True(File.Exists(Path.Combine(Feed, $"{id}.{Version}.nupkg")), string.Join(", ", Directory.GetFiles(Feed)));
        }

        public string Feed { get; }

        public string Version { get; }

        public string NewFolder(string name) => Directory.CreateDirectory(_dir.File(name + "-" + Guid.NewGuid().ToString("N")[..6])).FullName;

        public void Dispose() => _dir.Dispose();
    }

    private static readonly string Readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));

    // The README's set-up lines, each run here with the feed and version of this pack put in.
    private static readonly string[] SetUp =
    [
        "dotnet new console -o PhotoApp && cd PhotoApp",
        "dotnet new nugetconfig",
        "dotnet nuget add source ~/.cache/effnet/feed --name effnet-local --configfile nuget.config",
        "dotnet add package EffNet.MLNet --version <printed version>",
    ];

    [Fact]
    [Trait("Category", "Slow")]   // packs three packages and builds four apps: ~4 min on 2 idle cores
    public void An_app_on_MLNet_6_runs_the_readme_program_from_the_packed_package_and_stock_programs_on_6_and_5_serve_its_model()
    {
        foreach (var line in SetUp) Assert.Contains(line, Readme);
        var root = packed.NewFolder("ml6");
        var app = NewApp(root);
        File.WriteAllText(Path.Combine(app, "Program.cs"), ReadmeProgram());
        var data = SampleData.CopyFirst(Path.Combine(app, "sample-data"), perLabel: 8);

        // No warning in a consumer build (NU1603 for a SkiaSharp it did not ask for was one).
        var build = Shell(app, "dotnet build -c Release");
        Assert.True(build.Code == 0, build.Out + build.Err);
        Assert.Contains(" 0 Warning(s)", build.Out);
        var references = Regex.Matches(File.ReadAllText(Path.Combine(app, "PhotoApp.csproj")), @"PackageReference Include=""([^""]+)""").Select(m => m.Groups[1].Value);
        Assert.Equal(["EffNet.MLNet"], references);

        var run = Shell(app, "dotnet run -c Release --no-build");
        Assert.True(run.Code == 0, run.Out + run.Err);
        var printed = Regex.Match(run.Out, @"^(?<path>.+): (?<label>\w+) \((?<score>[\d.]+) ?%\)$", RegexOptions.Multiline);
        Assert.True(printed.Success, run.Out);
        var image = Path.Combine(app, printed.Groups["path"].Value);
        Assert.Equal(Path.GetFileName(Path.GetDirectoryName(image)), printed.Groups["label"].Value);
        Assert.True(File.Exists(Path.Combine(app, "model.zip")) && File.Exists(Path.Combine(app, "model.images.zip")));

        // The saved model in stock-only programs on each ML.NET version it serves.
        foreach (var version in new[] { "6.0.0", "5.0.1" })
        {
            var stock = StockConsumer(root, version, [Path.Combine(app, "model.zip"), image]);
            Assert.True(stock.Code == 0, $"ML.NET {version}: {stock.Out}{stock.Err}");
            Assert.Equal(printed.Groups["label"].Value, stock.Out.Split('\t')[1]);
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void An_app_pinned_to_MLNet_5_is_refused_at_restore_with_nugets_downgrade_error()
    {
        var root = packed.NewFolder("ml5");
        var app = Path.Combine(root, "PhotoApp");
        var create = Shell(root, "dotnet new console -o PhotoApp && cd PhotoApp && dotnet add package Microsoft.ML --version 5.0.1");
        Assert.True(create.Code == 0, create.Out + create.Err);
        // dotnet add package reports the downgrade and still writes the reference; the build then stops on it.
        var add = AddPackage(app);
        Assert.Contains("NU1605", add.Out + add.Err);
        var build = Shell(app, "dotnet build -c Release");
        Assert.NotEqual(0, build.Code);
        Assert.Contains("NU1605", build.Out + build.Err);
        Assert.Contains("Microsoft.ML from 6.0.0 to 5.0.1", build.Out + build.Err);
    }

    private string NewApp(string root)
    {
        var create = Shell(root, "dotnet new console -o PhotoApp");
        Assert.True(create.Code == 0, create.Out + create.Err);
        var app = Path.Combine(root, "PhotoApp");
        var add = AddPackage(app);
        Assert.True(add.Code == 0, add.Out + add.Err);
        return app;
    }

    private (int Code, string Out, string Err) AddPackage(string app) =>
        Shell(app, $"dotnet new nugetconfig && dotnet nuget add source '{packed.Feed}' --name effnet-local --configfile nuget.config && dotnet add package EffNet.MLNet --version {packed.Version}");

    private static (int Code, string Out, string Err) StockConsumer(string root, string mlnetVersion, string[] args)
    {
        var output = Path.Combine(root, "stock-" + mlnetVersion);
        var build = ProcessRunner.Run("dotnet", ["build", Path.Combine(RepoPaths.Root, "tests", "PortableModelConsumer"), "-c", "Release", "-o", output,
            $"-p:MLNetVersion={mlnetVersion}", "--artifacts-path", Path.Combine(root, "artifacts-" + mlnetVersion)], Environment());
        Assert.True(build.Code == 0, build.Out + build.Err);
        return ProcessRunner.Run("dotnet", [Path.Combine(output, "PortableModelConsumer.dll"), .. args], Environment());
    }

    private static string ReadmeProgram()
    {
        var block = ProgramBlock().Match(Readme);
        Assert.True(block.Success, "README.md has no '<!-- program: Program.cs -->' C# block");
        return block.Groups[1].Value;
    }

    private static (int Code, string Out, string Err) Shell(string folder, string command) =>
        ProcessRunner.Run("bash", ["-c", $"cd '{folder}' && {command}"], Environment());

    private static Dictionary<string, string> Environment() => new()
    {
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["EFFNET_HOME"] = Path.Combine(Path.GetTempPath(), "effnet-consumer-home-" + System.Environment.ProcessId),
    };

    [GeneratedRegex(@"<!-- program: Program\.cs -->\n```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ProgramBlock();
}
