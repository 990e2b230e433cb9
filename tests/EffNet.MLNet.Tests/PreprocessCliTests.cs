using Microsoft.ML;

namespace EffNet.MLNet.Tests;

/// <summary><c>--preprocess</c> on the commands that configure a backbone.</summary>
public class PreprocessCliTests
{
    [Theory]
    [InlineData("featurize")]
    [InlineData("train")]
    public void An_unknown_mode_is_refused_with_the_valid_ones(string command)
    {
        using var dir = new TempDir();
        var (code, _, stderr) = CliTests.Effnet(command, "--random-init", "--preprocess", "bicubic", "--data", SampleData.Folder, "--out", dir.File("o.csv"));
        Assert.Equal(2, code);
        Assert.Contains("--preprocess must be one of fast, torchvision, not 'bicubic'.", string.Join(' ', stderr.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Featurize_with_torchvision_gives_the_library_s_torchvision_exact_features()
    {
        var fixture = PreprocessFixtures.B0;
        using var dir = new TempDir();
        var photos = Directory.CreateDirectory(dir.File("photos")).FullName;
        foreach (var name in new[] { "rocket.jpg", "chelsea.png", "motorcycle_left.png" })
            File.Copy(Path.Combine(fixture.Directory, "images", name), Path.Combine(photos, name));
        float[][] Featurize(string mode)
        {
            var output = dir.File(mode + ".idv");
            var run = CliTests.EffnetWithHome(dir.File("home"), "featurize", "--data", photos, "--out", output, "--weights", fixture.Checkpoint, "--preprocess", mode);
            Assert.True(run.Code == 0, run.Err);
            var ml = new MLContext(0);
            return ml.Data.CreateEnumerable<UnlabelledFeaturizeTests.Row>(ml.Data.LoadFromBinary(output), false).OrderBy(r => r.ImagePath, StringComparer.Ordinal).Select(r => r.Features).ToArray();
        }
        var torchvision = Featurize("torchvision");
        var fast = Featurize("fast");

        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(Directory.GetFiles(photos).Order(StringComparer.Ordinal).Select(p => new ImageRow { ImagePath = p }));
        var options = new EfficientNetFeaturizerOptions { WeightsPath = fixture.Checkpoint, Preprocessing = Preprocessing.TorchvisionExact };
        using var featurizer = ml.Transforms.ExtractEfficientNetFeatures(options: options).Fit(data);
        var library = ml.Data.CreateEnumerable<FeaturizerTests.FeaturesOnly>(featurizer.Transform(data), false).Select(r => r.Features).ToArray();
        for (var i = 0; i < library.Length; i++)
        {
            Assert.True(FeaturizerTests.Cosine(library[i], torchvision[i]) > 0.999999, $"image {i}: cosine {FeaturizerTests.Cosine(library[i], torchvision[i])}");
            Assert.True(FeaturizerTests.Cosine(fast[i], torchvision[i]) < 0.9999, $"image {i}: the fast features equal the torchvision ones");
        }
    }
}
