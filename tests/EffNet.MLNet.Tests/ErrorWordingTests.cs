using System.Text.RegularExpressions;
using EffNet.MLNet.Catalog;

namespace EffNet.MLNet.Tests;

/// <summary>Library errors name C# properties; the command line's name its flags.</summary>
public partial class ErrorWordingTests
{
    private static PretrainedWeights Entry(string prefix = "0123abcd") =>
        new("b0", $"efficientnet_b0_test-{prefix}.pth", new Uri("http://unused.invalid/x"), prefix, new EvalTransform(256, 224, "bicubic"), 0);

    // Mutation: ErrorReporter.Report without its AggregateException unwrap -> fails (exit 4 and the wrapper's stack trace).
    [Fact]
    public void An_error_a_parallel_loop_wrapped_is_reported_as_its_cause()
    {
        var cause = new EffNet.MLNet.Imaging.BadImageException("cut.jpg", "is truncated");
        Assert.Equal(Cli.ExitCodes.BadData, Cli.ErrorReporter.Report(new AggregateException(new AggregateException(cause))));
    }

    [Fact]
    public void The_offline_error_in_a_CSharp_program_names_the_options_properties()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer(); // serves nothing: 404
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true, Attempts = 1 };
        var ex = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(Entry()));
        Assert.Contains("set a checkpoint (WeightsPath), your own EfficientNet ONNX model (OnnxModelPath) or seeded random weights (RandomInit = true) in EfficientNetFeaturizerOptions", ex.Message);
        Assert.DoesNotContain("--", ex.Message);

        var unpublished = Assert.Throws<ArgumentException>(() => catalog.EnsureWeights("phi=1.5"));
        Assert.Contains("(WeightsPath)", unpublished.Message);
        Assert.DoesNotContain("--", unpublished.Message);
    }

    [Fact]
    public void The_same_error_on_the_command_line_names_the_flags()
    {
        using var home = new TempDir();
        using var server = new LocalFileServer();
        var environment = new Dictionary<string, string>
        {
            ["COLUMNS"] = "400", ["EFFNET_HOME"] = home.Path, ["EFFNET_MIRROR"] = server.BaseAddress, ["EFFNET_ALLOW_HTTP"] = "1",
        };
        var (code, _, stderr) = ProcessRunner.Run("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "effnet.dll"), "featurize", "--data", SampleData.Folder, "--out", home.File("f.csv")], environment);
        Assert.Equal(4, code);
        var message = stderr.ReplaceLineEndings(" ");
        Assert.Contains("404", message);
        Assert.Contains("or pass a checkpoint (--weights FILE) or --random-init", message);
        Assert.DoesNotContain("WeightsPath", message);
        Assert.DoesNotContain("RandomInit", message);
    }

    [Fact]
    public void No_string_in_the_library_names_a_command_line_flag()
    {
        var library = Path.Combine(RepoPaths.Root, "src", "EffNet.MLNet");
        var offenders = Directory.EnumerateFiles(library, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line.Trim())))
            .Where(l => !l.Text.StartsWith("//", StringComparison.Ordinal))
            .SelectMany(l => StringLiteral().Matches(l.Text).Select(m => $"{l.File}:{l.Line}: {m.Value}"))
            .Where(s => FlagLike().IsMatch(s) && !s.Contains("models--"))
            .ToList();
        Assert.Empty(offenders);
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex("--[a-z]")]
    private static partial Regex FlagLike();
}
