using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Tests.MultiLabel;

/// <summary>
/// <c>effnet codegen</c> on a multi-label model: the generated library, built against this checkout's library (a
/// project reference in place of the package, which CodegenRoundTripTests packs for the single-label case) with
/// no warning, predicts in a console the labels and probabilities <c>effnet predict</c> gives; its <c>--web</c> project answers them on 127.0.0.1.
/// </summary>
public class MultiLabelCodegenTests(MultiLabelTrainingTests.ShapeColourFeatures f) : IClassFixture<MultiLabelTrainingTests.ShapeColourFeatures>
{
    // Mutation (run): MultiLabelConsumption.ImageModel writes the thresholds in reverse order -> the console's labels differ from effnet predict's -> fails.
    // Mutation (run): the library csproj copies the model but not its model.json to the output -> the web app serves the model as
    // single-label and is refused ("no 'PredictedLabel' column") -> no 200 -> fails.
    [Fact]
    [Trait("Category", "Slow")]   // builds the library, a console and the web project from source, starts the web app: ~2 min on 2 busy cores
    public void Generated_code_builds_without_warnings_and_predicts_the_labels_effnet_predict_gives()
    {
        using var dir = new TempDir();
        var model = dir.File("tags.zip");
        f.SaveWithReport(f.Lbfgs, model);
        var output = dir.File("Gen");

        var generate = CliTests.Effnet("codegen", "--model", model, "--out", output, "--namespace", "Tags.Model", "--web");
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
        // The web project likewise against this checkout's AspNetCore library.
        var webProject = Path.Combine(output, "Tags.Model.Web", "Tags.Model.Web.csproj");
        var webText = File.ReadAllText(webProject);
        var webPackage = System.Text.RegularExpressions.Regex.Match(webText, "<PackageReference Include=\"EffNet.MLNet.AspNetCore\" Version=\"[^\"]*\" />").Value;
        Assert.NotEmpty(webPackage);
        File.WriteAllText(webProject, webText.Replace(webPackage,
            $"<ProjectReference Include=\"{Path.Combine(RepoPaths.Root, "src", "EffNet.MLNet.AspNetCore", "EffNet.MLNet.AspNetCore.csproj")}\" />", StringComparison.Ordinal));
        Assert.Contains("\"probabilities\"", File.ReadAllText(Path.Combine(output, "README.md")));
        var webBuild = ProcessRunner.Run("dotnet", ["build", webProject, "-c", "Release", "-o", Path.Combine(output, "webbin")]);
        Assert.True(webBuild.Code == 0, webBuild.Out + webBuild.Err);
        Assert.Matches(@"\b0 Warning\(s\)", webBuild.Out);

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

        // The generated web API on 127.0.0.1: the labels effnet predict gives, with every probability and threshold.
        using var answer = JsonDocument.Parse(Consumers.CodegenRoundTripTests.PostToWebApp(Path.Combine(output, "webbin", "Tags.Model.Web.dll"), images[1]));
        Assert.Equal(expected[1].GetProperty("labels").EnumerateArray().Select(l => l.GetString()), answer.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(expected[1].GetProperty("probabilities").EnumerateArray().Select(p => p.GetProperty("threshold").GetSingle()),
            answer.RootElement.GetProperty("probabilities").EnumerateArray().Select(p => p.GetProperty("threshold").GetSingle()));
        var served = answer.RootElement.GetProperty("probabilities").EnumerateArray().Select(p => p.GetProperty("probability").GetSingle()).ToList();
        var predicted = expected[1].GetProperty("probabilities").EnumerateArray().Select(p => p.GetProperty("probability").GetSingle()).ToList();
        Assert.Equal(predicted.Count, served.Count);
        for (var j = 0; j < served.Count; j++) Assert.Equal(predicted[j], served[j], 1e-6f);
    }
}
