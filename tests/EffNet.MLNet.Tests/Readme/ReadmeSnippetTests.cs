using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Tests.Readme;

/// <summary>
/// Every C# block of README.md is a region of compiled code in the tests (see <see cref="ReadmeSnippets"/>
/// and tests/PortableModelConsumer), and each is run here the way a user would run it.
/// </summary>
public partial class ReadmeSnippetTests(ReadmeSnippetTests.PipelineModel pipeline) : IClassFixture<ReadmeSnippetTests.PipelineModel>
{
    /// <summary>The README pipeline's model (and its image-input twin), fitted once on every third sample image.</summary>
    public sealed class PipelineModel : IDisposable
    {
        private readonly TempDir _dir = new();

        public PipelineModel() => ReadmeSnippets.Pipeline(Rows, TorchvisionFixtures.File("b0.pth"), Path);

        public List<ImageRow> Rows { get; } = SampleData.Rows().Where((_, i) => i % 3 == 0).ToList();

        public string Path => _dir.File("model.zip");

        public string ImagesPath => _dir.File("model.images.zip");

        public void Dispose() => _dir.Dispose();
    }

    [Fact]
    public void Every_csharp_block_of_the_readme_is_compiled_test_code_and_every_snippet_is_in_the_readme()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var blocks = CsharpBlock().Matches(readme).Select(m => Normalise(m.Groups[1].Value)).ToList();
        var regions = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => Region().Matches(File.ReadAllText(f)).Select(m => (Name: m.Groups[1].Value, Text: Normalise(AsInReadme(m.Groups[2].Value)))))
            .ToList();
        Assert.NotEmpty(blocks);
        foreach (var block in blocks)
            Assert.True(regions.Any(r => r.Text == block), $"This README block is not a compiled snippet (tests/**/*.cs, // <readme name=\"…\">):\n{block}");
        foreach (var region in regions)
            Assert.True(blocks.Contains(region.Text), $"The snippet '{region.Name}' is not in README.md as it is in the tests:\n{region.Text}");
    }

    [Fact]
    public void Readme_pipeline_model_serves_in_the_pooled_predictor_and_in_stock_programs_from_paths_and_bytes()
    {
        var model = pipeline.Path;
        var probe = pipeline.Rows.Take(4).Select(r => r.ImagePath).ToArray();
        using var predictor = new PooledPredictor(model);
        var ours = probe.Select(predictor.Predict).ToList();
        Assert.Equal(["checkers", "discs", "stripes"], predictor.Labels.Order());

        var stockPaths = PortableModelTests.RunConsumer([model, .. probe]);
        var stockBytes = PortableModelTests.RunConsumer(["--bytes", pipeline.ImagesPath, .. probe]);
        for (var i = 0; i < probe.Length; i++)
        {
            Assert.Equal(ours[i].PredictedLabel, stockPaths[i].Label);
            Assert.Equal(ours[i].PredictedLabel, stockBytes[i].Label);
            for (var k = 0; k < ours[i].Score.Length; k++)
            {
                Assert.Equal(ours[i].Score[k], stockPaths[i].Scores[k], 5);
                Assert.Equal(ours[i].Score[k], stockBytes[i].Scores[k], 5);
            }
        }
    }

    [Fact]
    public void Readme_trainer_and_predictor_snippets_run()
    {
        using var dir = new TempDir();
        var photos = Path.Combine(dir.Path, "photos");
        foreach (var row in SampleData.Rows().Where((_, i) => i % 3 == 0))
        {
            Directory.CreateDirectory(Path.Combine(photos, row.Label));
            File.Copy(row.ImagePath, Path.Combine(photos, row.Label, Path.GetFileName(row.ImagePath)));
        }
        var model = dir.File("model.zip");
        ReadmeSnippets.Trainer(photos, TorchvisionFixtures.File("b0.pth"), model);

        var image = SampleData.Rows()[1].ImagePath;
        var fromFile = ReadmeSnippets.Predictor(model, image, File.ReadAllBytes(image));
        Assert.Contains(fromFile.PredictedLabel, new[] { "checkers", "discs", "stripes" });
        Assert.Equal(3, fromFile.Scores.Count);
    }

    [Fact]
    public async Task Readme_aspnet_snippet_serves_labels_with_scores_on_kestrel_and_answers_bad_uploads_with_400()
    {
        await using var app = await ReadmeSnippets.WebApp(["--urls", "http://127.0.0.1:0", "--environment", "Production"], pipeline.Path);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        var image = File.ReadAllBytes(SampleData.Rows()[0].ImagePath);
        foreach (var route in new[] { "/classify", "/v2/classify" })
        {
            // What `curl --data-binary @photo.jpg` sends: the raw bytes, typed application/x-www-form-urlencoded.
            var curl = new ByteArrayContent(image);
            curl.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
            var response = await http.PostAsync(route, curl);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            var scores = json.GetProperty("scores").EnumerateArray().ToList();
            Assert.Equal(3, scores.Count);
            Assert.Equal(["checkers", "discs", "stripes"], scores.Select(s => s.GetProperty("label").GetString()).Order());
            Assert.Equal(json.GetProperty("label").GetString(), scores[0].GetProperty("label").GetString());
            Assert.All(scores, s => Assert.InRange(s.GetProperty("score").GetSingle(), 0f, 1f));

            foreach (var (what, bad) in BadUploads(image))
            {
                var refused = await http.PostAsync(route, new ByteArrayContent(bad));
                var body = await refused.Content.ReadAsStringAsync();
                Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{route}, {what}: {refused.StatusCode} {body}");
                Assert.Contains("upload", body);
                Assert.DoesNotContain(Path.GetTempPath(), body);
            }
        }
        using var form = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "cat.jpg" } };
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v2/classify", form)).StatusCode);
        await app.StopAsync();
    }

    /// <summary>Uploads that are not usable images: empty, HTML, truncated, random bytes, a decompression-bomb header.</summary>
    internal static IEnumerable<(string What, byte[] Bytes)> BadUploads(byte[] goodJpeg)
    {
        yield return ("empty", []);
        yield return ("HTML", "<!doctype html><html><body>not an image</body></html>"u8.ToArray());
        yield return ("truncated", goodJpeg[..(goodJpeg.Length / 3)]);
        var random = new byte[4096];
        new Random(5).NextBytes(random);
        yield return ("random bytes", random);
        yield return ("bomb header", BadImageTests.PngDeclaring(100_000, 100_000));   // 10 gigapixels declared
    }

    private static string AsInReadme(string region) =>
        string.Join('\n', region.Split('\n').Select(line =>
        {
            if (line.TrimEnd().EndsWith("// readme:", StringComparison.Ordinal)) return "";   // an empty line in the README
            var at = line.IndexOf("// readme: ", StringComparison.Ordinal);
            return at < 0 ? line : line[..(line.Length - line.TrimStart().Length)] + line[(at + "// readme: ".Length)..];
        }));

    // Without the common indentation and trailing spaces, so a region nested in a method equals its README block.
    private static string Normalise(string text)
    {
        var lines = text.Replace("\r", "").Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[0].Length == 0) lines.RemoveAt(0);
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        var indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l));
    }

    // A block under "<!-- program: FILE -->" is a whole program, compiled from the README text itself
    // against the packed packages (Consumers/ConsumerMatrixTests), not a region here.
    [GeneratedRegex(@"(?<!<!-- program: [^\n]*-->\n)```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CsharpBlock();

    [GeneratedRegex(@"// <readme name=""([^""]+)"">[^\n]*\n(.*?)\n[ \t]*// </readme>", RegexOptions.Singleline)]
    private static partial Regex Region();
}
