using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Tests.MultiLabel;

/// <summary>
/// <c>effnet codegen</c> on a multi-label model: the generated library, built against this checkout's library (a
/// project reference in place of the package, which CodegenRoundTripTests packs for the single-label case) with
/// no warning, predicts in a console the labels and probabilities <c>effnet predict</c> gives.
/// </summary>
public class MultiLabelCodegenTests(MultiLabelTrainingTests.ShapeColourFeatures f) : IClassFixture<MultiLabelTrainingTests.ShapeColourFeatures>
{
    // Mutation (run): MultiLabelConsumption.ImageModel writes the thresholds in reverse order -> the console's labels differ from effnet predict's -> fails.
    [Fact]
    [Trait("Category", "Slow")]   // builds the library and a console from source: ~1 min on 2 busy cores
    public void Generated_code_builds_without_warnings_and_predicts_the_labels_effnet_predict_gives()
    {
        using var dir = new TempDir();
        var model = dir.File("tags.zip");
        f.SaveWithReport(f.Lbfgs, model);
        var output = dir.File("Gen");

        var web = CliTests.Effnet("codegen", "--model", model, "--out", dir.File("GenWeb"), "--web");
        Assert.Equal(2, web.Code);
        Assert.Contains("--web serves single-label classifiers only", System.Text.RegularExpressions.Regex.Replace(web.Err, @"\s+", " "));

        var generate = CliTests.Effnet("codegen", "--model", model, "--out", output, "--namespace", "Tags.Model");
        Assert.True(generate.Code == 0, generate.Out + generate.Err);
        var library = Path.Combine(output, "Tags.Model");
        var imageModel = File.ReadAllText(Path.Combine(library, "ImageModel.cs"));
        foreach (var t in f.Lbfgs.Thresholds) Assert.Contains(t.ToString("R", CultureInfo.InvariantCulture) + "f", imageModel);
        Assert.Contains("PredictedLabels", File.ReadAllText(Path.Combine(library, "ModelOutput.cs")));

        // This checkout's library in place of the package; a console beside it, as the README's "Use it" has it.
        var project = Path.Combine(library, "Tags.Model.csproj");
        var text = File.ReadAllText(project);
        var package = System.Text.RegularExpressions.Regex.Match(text, "<PackageReference Include=\"EffNet.MLNet\" Version=\"[^\"]*\" />").Value;
        Assert.NotEmpty(package);
        File.WriteAllText(project, text.Replace(package, $"<ProjectReference Include=\"{Path.Combine(RepoPaths.Root, "src", "EffNet.MLNet", "EffNet.MLNet.csproj")}\" />", StringComparison.Ordinal));
        var console = Directory.CreateDirectory(Path.Combine(output, "Console")).FullName;
        File.WriteAllText(Path.Combine(console, "Console.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
              <ItemGroup><ProjectReference Include="../Tags.Model/Tags.Model.csproj" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(console, "Program.cs"), """
            using System.Globalization;
            using Tags.Model;
            foreach (var path in args)
            {
                var output = ImageModel.Predict(path);
                Console.WriteLine($"{string.Join(";", output.PredictedLabels.Order(StringComparer.Ordinal))}\t{string.Join(",", output.Probability.Select(p => p.ToString("R", CultureInfo.InvariantCulture)))}");
            }
            """);
        var build = ProcessRunner.Run("dotnet", ["build", Path.Combine(console, "Console.csproj"), "-c", "Release", "-o", Path.Combine(output, "bin")]);
        Assert.True(build.Code == 0, build.Out + build.Err);
        Assert.Matches(@"\b0 Warning\(s\)", build.Out);

        var images = f.Lbfgs.ValidationImages.Take(4).Select(i => i.ImagePath).ToArray();
        var run = ProcessRunner.Run("dotnet", [Path.Combine(output, "bin", "Console.dll"), .. images]);
        Assert.True(run.Code == 0, run.Out + run.Err);
        var predict = CliTests.Effnet(["predict", "--model", model, "--json", .. images]);
        Assert.True(predict.Code == 0, predict.Err);
        var expected = JsonDocument.Parse(predict.Out).RootElement.EnumerateArray().ToList();
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(images.Length, lines.Length);
        for (var i = 0; i < images.Length; i++)
        {
            var parts = lines[i].Split('\t');
            Assert.Equal(string.Join(";", expected[i].GetProperty("labels").EnumerateArray().Select(l => l.GetString()).Order(StringComparer.Ordinal)), parts[0]);
            Assert.Equal(expected[i].GetProperty("probabilities").EnumerateArray().Select(p => p.GetProperty("probability").GetSingle()),
                parts[1].Split(',').Select(p => float.Parse(p, CultureInfo.InvariantCulture)));
        }
    }
}
