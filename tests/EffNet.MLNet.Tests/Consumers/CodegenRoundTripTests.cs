using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EffNet.MLNet.Tests.Consumers;

/// <summary>
/// <c>effnet codegen</c> as a user meets it: a model trained by effnet, code generated for it, NuGet pointed at a
/// freshly packed local feed with the generated README's own commands, the projects added to a solution
/// (README's <c>dotnet sln add</c>), built against the PACKAGES with no warning, then a console that predicts
/// through the generated <c>ImageModel</c> and the generated web API on 127.0.0.1.
/// </summary>
public sealed partial class CodegenRoundTripTests(ConsumerMatrixTests.PackedLibrary packed) : IClassFixture<ConsumerMatrixTests.PackedLibrary>
{
    // A label no C# literal could hold as it is: the generated code must still compile and name it exactly.
    private const string HostileLabel = "disc \"quoted\" \\ {x}";

    // Mutations it guards against (not run: each run packs and builds for ~8 min; the 0-warning assertion caught a real
    // CS8604 in the generated ImageModel.cs on its first runs, and CodegenCliTests runs the literal mutation fast):
    // Mutation: ConsumptionProject.ImageModel pairs Score[i] with Labels[^(i+1)] (labels reversed) -> the console's
    // scores per label differ from effnet predict's -> fails.
    // Mutation: the library csproj leaves out the model's <None … CopyToOutputDirectory> -> the console cannot find
    // the model -> fails.
    // Mutation: CSharpText.Literal does not escape '"' -> the generated ImageModel.cs does not compile -> fails.
    [Fact]
    [Trait("Category", "Slow")]   // packs three packages, trains, builds three projects, starts a web server: ~4 min on 2 cores
    public void Generated_library_builds_against_the_package_without_warnings_and_predicts_as_effnet_predict_does_in_a_console_and_on_the_web()
    {
        var root = packed.NewFolder("codegen");
        var home = Path.Combine(root, "home");
        var data = SampleData.CopyFirst(Path.Combine(root, "data"), perLabel: 6);
        Directory.Move(Path.Combine(data, "discs"), Path.Combine(data, HostileLabel));
        var model = Path.Combine(root, "model.zip");
        var train = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", model, "--random-init", "--trainer", "lbfgs", "--quiet");
        Assert.True(train.Code == 0, train.Out + train.Err);

        var generated = Path.Combine(root, "Generated");
        var codegen = CliTests.EffnetWithHome(home, "codegen", "--model", model, "--out", generated, "--namespace", "Photo.Model", "--web",
            "--package-version", packed.Version);
        Assert.True(codegen.Code == 0, codegen.Out + codegen.Err);

        // The README's own commands point NuGet at the feed and add the projects to a solution.
        var readme = File.ReadAllText(Path.Combine(generated, "README.md"));
        const string addSource = "dotnet nuget add source ~/.cache/effnet/feed --name effnet-local --configfile nuget.config";
        const string slnAdd = "dotnet sln YourSolution.sln add Photo.Model/Photo.Model.csproj Photo.Model.Web/Photo.Model.Web.csproj";
        Assert.Contains("dotnet new nugetconfig\n" + addSource, readme);
        Assert.Contains(slnAdd, readme);
        Assert.Contains($"Version=\"{packed.Version}\"", File.ReadAllText(Path.Combine(generated, "Photo.Model", "Photo.Model.csproj")));
        var images = Directory.GetDirectories(data).Order(StringComparer.Ordinal).Select(d => Directory.GetFiles(d).Order(StringComparer.Ordinal).Last()).ToList();
        var setUp = Shell(generated,
            "dotnet new nugetconfig && " + addSource.Replace("~/.cache/effnet/feed", $"'{packed.Feed}'", StringComparison.Ordinal) +
            " && dotnet new console -o Consumer && dotnet add Consumer/Consumer.csproj reference Photo.Model/Photo.Model.csproj" +
            " && dotnet new sln -n YourSolution && " + slnAdd.Replace("YourSolution.sln", "YourSolution.slnx", StringComparison.Ordinal) +
            " && dotnet sln YourSolution.slnx add Consumer/Consumer.csproj");
        Assert.True(setUp.Code == 0, setUp.Out + setUp.Err);
        File.WriteAllText(Path.Combine(generated, "Consumer", "Program.cs"), ConsumerProgram);

        var build = Shell(generated, "dotnet build YourSolution.slnx -c Release");
        Assert.True(build.Code == 0, build.Out + build.Err);
        Assert.Contains(" 0 Warning(s)", build.Out);
        // Against the packages, never a project reference to the library's source.
        foreach (var project in new[] { "Photo.Model/Photo.Model.csproj", "Photo.Model.Web/Photo.Model.Web.csproj" })
            Assert.DoesNotContain("src/EffNet.MLNet", File.ReadAllText(Path.Combine(generated, project)));

        var run = ProcessRunner.Run("dotnet", [Path.Combine(generated, "Consumer", "bin", "Release", "net10.0", "Consumer.dll"), .. images], Environment());
        Assert.True(run.Code == 0, run.Out + run.Err);
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var labels = JsonSerializer.Deserialize<string[]>(lines[0])!;
        Assert.Equal(["checkers", HostileLabel, "stripes"], labels);   // ordinal order, exactly as trained

        var predict = CliTests.EffnetWithHome(home, ["predict", "--model", model, "--json", "--top", "9", .. images]);
        Assert.True(predict.Code == 0, predict.Out + predict.Err);
        var expected = JsonDocument.Parse(predict.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(images.Count, expected.Count);
        for (var i = 0; i < images.Count; i++)
        {
            using var got = JsonDocument.Parse(lines[1 + i]);
            Assert.Equal(expected[i].GetProperty("label").GetString(), got.RootElement.GetProperty("label").GetString());
            var want = expected[i].GetProperty("scores").EnumerateArray().ToDictionary(s => s.GetProperty("label").GetString()!, s => s.GetProperty("score").GetSingle());
            var have = got.RootElement.GetProperty("scores").EnumerateArray().ToDictionary(s => s.GetProperty("label").GetString()!, s => s.GetProperty("score").GetSingle());
            Assert.Equal(want.Keys.Order(StringComparer.Ordinal), have.Keys.Order(StringComparer.Ordinal));
            foreach (var (label, score) in want) Assert.Equal(score, have[label], 1e-6f);
        }
        // The in-memory form (ModelInput.FromImage) agrees with the file form on the first image.
        Assert.Equal(expected[0].GetProperty("label").GetString(), lines[^1]);

        // The web API: started on 127.0.0.1, an image POSTed as the raw body.
        var web = Path.Combine(generated, "Photo.Model.Web", "bin", "Release", "net10.0", "Photo.Model.Web.dll");
        var answer = PostToWebApp(web, images[1]);
        using var json = JsonDocument.Parse(answer);
        Assert.Equal(expected[1].GetProperty("label").GetString(), json.RootElement.GetProperty("label").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("scores").GetArrayLength());
    }

    private const string ConsumerProgram = """
        using System.Text.Json;
        using Microsoft.ML.Data;
        using Photo.Model;

        Console.WriteLine(JsonSerializer.Serialize(ImageModel.Labels));
        var outputs = ImageModel.PredictAll(args.Select(ModelInput.FromFile));
        for (var i = 0; i < args.Length; i++)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                label = outputs[i].PredictedLabel,
                scores = outputs[i].Scores.Select(s => new { label = s.Label, score = s.Score }),
            }));
        using var stream = File.OpenRead(args[0]);
        using var image = MLImage.CreateFromStream(stream);
        Console.WriteLine(ImageModel.Predict(ModelInput.FromImage(image)).PredictedLabel);
        """;

    internal static string PostToWebApp(string dll, string image)
    {
        var port = FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var a in new[] { dll, "--urls", $"http://127.0.0.1:{port}" }) psi.ArgumentList.Add(a);
        foreach (var (k, v) in Environment()) psi.Environment[k] = v;
        using var server = Process.Start(psi)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        server.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (true)
            {
                try
                {
                    using var response = http.PostAsync($"http://127.0.0.1:{port}/classify", new ByteArrayContent(File.ReadAllBytes(image))).Result;
                    var body = response.Content.ReadAsStringAsync().Result;
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
                    return body;
                }
                catch (AggregateException e) when (e.InnerException is HttpRequestException && DateTime.UtcNow < deadline && !server.HasExited)
                {
                    Thread.Sleep(500);
                }
                catch (AggregateException e)
                {
                    throw new Xunit.Sdk.XunitException($"The web app did not answer ({e.InnerException?.Message}); its output: {string.Join('\n', log)}");
                }
            }
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (int Code, string Out, string Err) Shell(string folder, string command) =>
        ProcessRunner.Run("bash", ["-c", $"cd '{folder}' && {command}"], Environment());

    private static Dictionary<string, string> Environment() => new()
    {
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["EFFNET_HOME"] = Path.Combine(Path.GetTempPath(), "effnet-codegen-home-" + System.Environment.ProcessId),
    };
}
