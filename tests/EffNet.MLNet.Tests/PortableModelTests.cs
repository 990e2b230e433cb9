using System.Globalization;
using System.Text.Json;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The DESIGN.md contract: a model.zip from <c>effnet train</c> loads and predicts in a program
/// that references only stock ML.NET (tests/PortableModelConsumer), with the checkpoint and the
/// training images gone.
/// </summary>
public class PortableModelTests
{
    [Fact]
    public void Trained_model_predicts_identically_in_a_stock_mlnet_program_without_checkpoint_or_training_images()
    {
        using var dir = new TempDir();
        var weights = dir.File("weights.pth");
        File.Copy(TorchvisionFixtures.File("b0.pth"), weights);
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 12);
        var model = dir.File("model.zip");
        var train = CliTests.Effnet("train", "--data", data, "--out", model, "--weights", weights, "--trainer", "sdca", "--quiet");
        Assert.True(train.Code == 0, train.Err);

        // Nothing the model was made from is needed any more.
        var probe = Path.Combine(dir.Path, "probe");
        Directory.CreateDirectory(probe);
        var images = new[] { "checkers/checkers-03.jpg", "discs/discs-01.png", "stripes/stripes-08.png", "discs/discs-04.png" }
            .Select(p => { var to = Path.Combine(probe, Path.GetFileName(p)); File.Copy(Path.Combine(data, p), to); return to; }).ToList();
        File.Delete(weights);
        Directory.Delete(data, recursive: true);

        var stock = RunConsumer([model, .. images]);
        var ours = CliTests.Effnet(["predict", "--model", model, "--json", "--top", "3", .. images]);
        Assert.True(ours.Code == 0, ours.Err);
        var expected = JsonDocument.Parse(ours.Out).RootElement.EnumerateArray().ToList();
        var labels = JsonSerializer.Deserialize<string[]>(JsonDocument.Parse(File.ReadAllText(dir.File("model.json"))).RootElement.GetProperty("labels"))!;

        Assert.Equal(images.Count, stock.Count);
        for (var i = 0; i < images.Count; i++)
        {
            var (label, scores) = stock[i];
            Assert.Equal(expected[i].GetProperty("label").GetString(), label);
            Assert.Equal(3, scores.Length);
            foreach (var s in expected[i].GetProperty("scores").EnumerateArray())
                Assert.Equal(s.GetProperty("score").GetSingle(), scores[Array.IndexOf(labels, s.GetProperty("label").GetString())], 5);
        }
    }

    internal static List<(string Label, float[] Scores)> RunConsumer(string[] args)
    {
        var output = ConsumerBuild.Value;
        Assert.False(File.Exists(Path.Combine(output, "EffNet.MLNet.dll")), "the consumer must not reference EffNet.MLNet");
        var (code, stdout, stderr) = Run("dotnet", [Path.Combine(output, "PortableModelConsumer.dll"), .. args]);
        Assert.True(code == 0, stderr);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var parts = line.Split('\t');
            return (parts[1], parts[2].Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray());
        }).ToList();
    }

    private static readonly Lazy<string> ConsumerBuild = new(() =>
    {
        var output = Path.Combine(Path.GetTempPath(), "effnet-portable-consumer");
        var (code, stdout, stderr) = Run("dotnet", ["build", Path.Combine(RepoPaths.Root, "tests", "PortableModelConsumer"), "-c", "Release", "-o", output]);
        Assert.True(code == 0, stdout + stderr);
        return output;
    });

    private static (int Code, string Out, string Err) Run(string file, string[] args) => ProcessRunner.Run(file, args);
}
