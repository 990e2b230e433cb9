using System.Text.Json;
using EffNet.MLNet.Onnx;

namespace EffNet.MLNet.Tests;

/// <summary>The <c>effnet</c> executable, run as a separate process the way users run it.</summary>
public class CliTests
{
    /// <summary>Run effnet in a home of its own (a fresh temp folder, removed afterwards): nothing is shared with ~/.cache/effnet or another run.</summary>
    internal static (int Code, string Out, string Err) Effnet(params string[] args) => EffnetWithin(null, null, args);

    /// <summary>Run effnet with EFFNET_HOME (weights and feature cache) at <paramref name="home"/>, a temp folder the test owns.</summary>
    internal static (int Code, string Out, string Err) EffnetWithHome(string home, params string[] args) => EffnetWithin(null, home, args);

    /// <summary>Run effnet killed after <paramref name="timeout"/> (exit code <see cref="ProcessRunner.TimedOut"/>), in <paramref name="home"/> or, when null, a fresh temp home.</summary>
    internal static (int Code, string Out, string Err) EffnetWithin(TimeSpan? timeout, string? home, params string[] args)
    {
        using var fresh = home is null ? new TempDir() : null;
        var environment = new Dictionary<string, string> { ["COLUMNS"] = "200", ["EFFNET_HOME"] = home ?? fresh!.Path };
        return ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "effnet.dll"), .. args], environment, timeout);
    }

    // Mutation: ProcessRunner.CheckEffnetHome returns at once -> fails.
    [Fact]
    public void Effnet_is_never_started_without_a_temp_home_of_its_own()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "effnet.dll");
        Assert.Throws<InvalidOperationException>(() => ProcessRunner.Run("dotnet", [dll, "--version"]));
        var userCache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "effnet");
        Assert.Throws<InvalidOperationException>(() => ProcessRunner.Run("dotnet", [dll, "--version"], new Dictionary<string, string> { ["EFFNET_HOME"] = userCache }));
        Assert.Throws<InvalidOperationException>(() => ProcessRunner.Run("/tmp/tools/effnet", ["--version"], new Dictionary<string, string> { ["COLUMNS"] = "80" }));
        using var home = new TempDir();
        Assert.Equal(0, ProcessRunner.Run("dotnet", [dll, "--version"], new Dictionary<string, string> { ["EFFNET_HOME"] = home.Path }).Code);
    }

    // A run's output sent to a file (a job left running, `> train.log`) keeps each line whole: before, every line was
    // wrapped at 80 columns whatever COLUMNS said, splitting "log-loss" from its figure.
    // Mutation: EffNetApp.Run without RedirectedWidth.Apply() -> fails (the validation line wraps after "log-loss").
    [Fact]
    public void Redirected_output_runs_lines_to_COLUMNS_instead_of_wrapping_at_80()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 5);
        var (code, stdout, stderr) = Effnet("train", "--data", data, "--out", dir.File("model.zip"), "--random-init", "--trainer", "sdca");
        Assert.True(code == 0, stderr);
        var line = Assert.Single(stdout.Split('\n'), l => l.StartsWith("Validation on ", StringComparison.Ordinal));
        Assert.Matches(@"micro-accuracy \d\.\d{3}, macro-accuracy \d\.\d{3}, log-loss \d+\.\d{3}\s*$", line);
        Assert.True(line.TrimEnd().Length > 80, line);
    }

    [Fact]
    public void Describe_json_has_every_published_variant_with_torchvision_counts()
    {
        var (code, stdout, _) = Effnet("describe", "--json");
        Assert.Equal(0, code);
        var rows = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"], rows.Select(r => r.GetProperty("variant").GetString()));
        Assert.Equal([5_288_548L, 7_794_184, 9_109_994, 12_233_232, 19_341_616, 30_389_784, 43_040_704, 66_347_960],
            rows.Select(r => r.GetProperty("params").GetInt64()));
        Assert.Equal(["variant", "resolution", "width", "depth", "params", "paramsNoHead", "macs", "featureDim"],
            rows[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(1.2, rows[3].GetProperty("width").GetDouble());
        Assert.Equal(1.4, rows[3].GetProperty("depth").GetDouble());
        Assert.Equal(1536, rows[3].GetProperty("featureDim").GetInt32());
    }

    [Fact]
    public void Describe_accepts_custom_phi_and_prints_a_table()
    {
        var (code, stdout, _) = Effnet("describe", "phi=1.5", "--json");
        Assert.Equal(0, code);
        var row = Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList());
        Assert.Equal(280, row.GetProperty("resolution").GetInt32()); // 224·1.15^1.5 = 276.2 → 280
        var table = Effnet("describe", "b0");
        Assert.Contains("5,288,548", table.Out);
        Assert.Contains("0.386B", table.Out);
    }

    [Fact]
    public void Describe_rejects_unknown_variants_with_exit_code_2()
    {
        var (code, _, stderr) = Effnet("describe", "b9");
        Assert.Equal(2, code);
        Assert.Contains("Unknown EfficientNet variant 'b9'", stderr);
    }

    [Theory]
    [InlineData("b0", "auto")]
    [InlineData("tf-b0", "timm-tf")] // timm's tf_efficientnet_b0: TensorFlow SAME padding, ε 1e-3
    public void Export_from_a_checkpoint_matches_the_reference(string reference, string family)
    {
        using var dir = new TempDir();
        var output = dir.File("b0.onnx");
        var (code, _, stderr) = Effnet("export", "--variant", "b0", "--weights", TorchvisionFixtures.File(reference + ".pth"),
            "--weights-family", family, "--out", output);
        Assert.True(code == 0, stderr);
        var (pixels, expected) = OnnxParityTests.Reference(reference);
        using var session = new FeatureSession(File.ReadAllBytes(output), 2);
        ParityCheck.AssertMatchesAndCatchesMistakes(expected, pixels, 2, p => session.Run(p, 2));
        if (family == "auto") return;
        // Without the flag a timm checkpoint whose name does not say tf_ or not is refused, not guessed.
        var refused = Effnet("export", "--variant", "b0", "--weights", TorchvisionFixtures.File(reference + ".pth"), "--out", dir.File("guess.onnx"));
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("--weights-family", refused.Err);
        Assert.False(File.Exists(dir.File("guess.onnx")));
    }

    [Fact]
    public void Export_random_init_honours_pooling_l2_and_resolution()
    {
        using var dir = new TempDir();
        var output = dir.File("r.onnx");
        var (code, _, stderr) = Effnet("export", "--variant", "b0", "--random-init", "--seed", "5", "--out", output,
            "--pooling", "max", "--l2-normalize", "--resolution", "160");
        Assert.True(code == 0, stderr);
        using var session = new FeatureSession(File.ReadAllBytes(output), 2);
        Assert.Equal(160, session.InputHeight);
        Assert.Equal(1280, session.FeatureDimension);
        var features = session.Run(SyntheticImages.Batch(1, 160, 1), 1);
        Assert.Equal(1.0, Math.Sqrt(features.Sum(v => (double)v * v)), 4);
    }

    // Mutation: ExportCommand without its --out-is-the-model check -> fails (the model.zip becomes an ONNX file).
    [Fact]
    public void Export_of_a_model_onto_itself_is_refused_even_with_force()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 3);
        var model = dir.File("m.zip");
        var trained = Effnet("train", "--data", data, "--out", model, "--random-init", "--trainer", "sdca", "--quiet");
        Assert.True(trained.Code == 0, trained.Err);
        var before = File.ReadAllBytes(model);
        var r = Effnet("export", "--model", model, "--out", model, "--force");
        Assert.Equal(2, r.Code);
        Assert.Contains("is the model itself", r.Err, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    [Fact]
    public void Export_never_overwrites_without_force()
    {
        using var dir = new TempDir();
        var output = dir.File("keep.onnx");
        File.WriteAllText(output, "user data");
        var (code, _, stderr) = Effnet("export", "--variant", "b0", "--random-init", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--force", stderr);
        Assert.Equal("user data", File.ReadAllText(output));
    }

    [Fact]
    public void Export_errors_name_the_problem_with_distinct_exit_codes()
    {
        using var dir = new TempDir();
        var wrong = Effnet("export", "--variant", "b3", "--weights", TorchvisionFixtures.File("b0.pth"), "--out", dir.File("x.onnx"));
        Assert.Equal(3, wrong.Code);
        Assert.Contains("'features.0.0.weight' has shape [32, 3, 3, 3] but EfficientNet b3 expects [40, 3, 3, 3]", wrong.Err.ReplaceLineEndings(" ").Replace("  ", " "));
        Assert.DoesNotContain("   at ", wrong.Err);

        var missing = Effnet("export", "--variant", "b0", "--weights", dir.File("absent.pth"), "--out", dir.File("x.onnx"));
        Assert.Equal(4, missing.Code);
        Assert.Contains("absent.pth", missing.Err);

        var both = Effnet("export", "--variant", "b0", "--out", dir.File("x.onnx"));
        Assert.Equal(2, both.Code);
        Assert.Contains("--weights FILE or --random-init", both.Err);
        Assert.False(File.Exists(dir.File("x.onnx")));
    }
}
