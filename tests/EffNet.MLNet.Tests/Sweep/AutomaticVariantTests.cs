using System.Text.Json;

namespace EffNet.MLNet.Tests.Sweep;

/// <summary><c>effnet train --variant auto</c>: a bounded sweep chooses the variant, and model.json records it.</summary>
public class AutomaticVariantTests
{
    [Fact]
    [Trait("Category", "Slow")]   // sweeps b0-b3 at their own resolutions, then trains: ~3 min on 2 cores
    public void Train_with_variant_auto_trains_the_recommended_variant_and_records_the_sweep()
    {
        using var home = new TempDir();
        using var dir = new TempDir();
        var model = dir.File("model.zip");
        var (code, _, stderr) = CliTests.EffnetWithHome(home.Path, "train", "--data", SampleData.Folder, "--variant", "auto", "--random-init", "--out", model, "--quiet");
        Assert.True(code == 0, stderr);
        var report = JsonDocument.Parse(File.ReadAllText(dir.File("model.json"))).RootElement;
        var sweep = report.GetProperty("sweep");
        var chosen = sweep.GetProperty("recommendation").GetProperty("variant").GetString();
        Assert.Contains(chosen, new[] { "b0", "b1", "b2", "b3" });
        Assert.Equal(chosen, report.GetProperty("settings").GetProperty("variant").GetString());
        Assert.Equal(chosen, report.GetProperty("backbone").GetProperty("variant").GetString());
        Assert.Equal(["b0", "b1", "b2", "b3"], sweep.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("variant").GetString()));
        Assert.Equal(3, sweep.GetProperty("folds").GetInt32());
        Assert.True(sweep.GetProperty("randomInit").GetBoolean());
        // The chosen variant's features came from the sweep's cache: training featurized nothing new.
        Assert.Equal(0, report.GetProperty("data").GetProperty("featurizedImages").GetInt32());
    }

    [Fact]
    public void Variant_auto_with_one_checkpoint_is_refused()
    {
        var (code, _, stderr) = CliTests.Effnet("train", "--data", SampleData.Folder, "--variant", "auto", "--weights", "b0.pth");
        Assert.Equal(2, code);
        Assert.Contains("--variant auto sweeps b0 to b3", stderr);
    }
}
