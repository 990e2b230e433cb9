using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EffNet.MLNet.AspNetCore;
using EffNet.MLNet.Tests.Readme;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EffNet.MLNet.Tests;

/// <summary>MapImageClassifier on Kestrel at 127.0.0.1: what clients send, and what the server does under load.</summary>
[Collection(nameof(RunsAlone))]
public class ImageClassifierEndpointTests(ReadmeSnippetTests.PipelineModel pipeline, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ReadmeSnippetTests.PipelineModel>
{
    private const string CurlBoundary = "------------------------d74496d66958873e";

    internal static async Task<WebApplication> Serve(string model, ImageClassifierEndpointOptions? endpoint = null)
    {
        var builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0", "--environment", "Production"]);
        builder.Logging.ClearProviders();
        builder.Services.AddImageClassifier(model);
        var app = builder.Build();
        if (endpoint is null) app.MapImageClassifier("/v2/classify"); else app.MapImageClassifier("/v2/classify", endpoint);
        await app.StartAsync();
        return app;
    }

    private static ByteArrayContent Raw(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    // What `curl -F upload=@photo.jpg` sends: an unquoted boundary of dashes and hex, the file's part typed by its extension.
    private static ByteArrayContent CurlForm(string field, string? fileName, byte[] data, string partType = "image/jpeg")
    {
        var head = fileName is null
            ? $"--{CurlBoundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n"
            : $"--{CurlBoundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{fileName}\"\r\nContent-Type: {partType}\r\n\r\n";
        var body = Encoding.ASCII.GetBytes(head).Concat(data).Concat(Encoding.ASCII.GetBytes($"\r\n--{CurlBoundary}--\r\n")).ToArray();
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={CurlBoundary}");
        return content;
    }

    // Mutation: UploadReader.Boundary returning null for every content type (multipart read as a raw body) -> the curl -F
    // upload is "not an image" -> fails. Mutation: reading an application/x-www-form-urlencoded body as a form
    // (request.HasFormContentType -> ReadFormAsync, the old code) -> curl --data-binary gets 400 "empty" -> fails.
    [Fact]
    public async Task V2_classify_takes_a_raw_body_of_any_content_type_and_a_multipart_file_and_names_what_is_wrong_otherwise()
    {
        await using var app = await Serve(pipeline.Path);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        var photo = File.ReadAllBytes(SampleData.Rows()[0].ImagePath);
        var png = File.ReadAllBytes(Path.Combine(SampleData.Folder, "checkers", "checkers-01.png"));

        var accepted = new (string What, HttpContent Request)[]
        {
            ("curl --data-binary @photo.jpg", Raw(photo, "application/x-www-form-urlencoded")),
            ("curl -H 'Content-Type: image/jpeg' --data-binary @photo.jpg", Raw(photo, "image/jpeg")),
            ("application/octet-stream", Raw(photo, "application/octet-stream")),
            ("no content type", Raw(photo, null)),
            ("curl -F upload=@photo.jpg", CurlForm("upload", "photo.jpg", photo)),
            ("HttpClient multipart, field 'image'", new MultipartFormDataContent { { new ByteArrayContent(photo), "image", "cat.jpg" } }),
        };
        string? first = null;
        foreach (var (what, request) in accepted)
        {
            var response = await http.PostAsync("/v2/classify", request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {response.StatusCode} {body}");
            var scores = JsonDocument.Parse(body).RootElement.GetProperty("scores").ToString();
            Assert.Equal(first ??= scores, scores);   // the same image, however it was sent
        }
        var other = await http.PostAsync("/v2/classify", CurlForm("picture", "board.png", png, "image/png"));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        var refused = new (string What, HttpContent Request, string Says)[]
        {
            ("curl -F note=hello", CurlForm("note", null, "hello"u8.ToArray()), "no file field (its fields: note)"),
            ("curl -d 'a=b'", Raw("a=b"u8.ToArray(), "application/x-www-form-urlencoded"), "'upload' (the raw body, sent as application/x-www-form-urlencoded) is not an image the decoder can read"),
            ("multipart without a boundary", Raw(photo, "multipart/form-data"), "declares no boundary"),
            ("empty body", Raw([], "image/jpeg"), "'upload' (the raw body, sent as image/jpeg) is empty (0 bytes)"),
            ("curl -F upload=@page.html", CurlForm("upload", "page.html", "<html></html>"u8.ToArray(), "text/html"), "'page.html' is not an image"),
        };
        foreach (var (what, request, says) in refused)
        {
            var response = await http.PostAsync("/v2/classify", request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {response.StatusCode} {body}");
            Assert.Contains(says, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        }
        await app.StopAsync();
    }

    // Mutation: PredictionGate.EnterAsync never refusing (queued = int.MaxValue) -> every request waits its turn, no 503 -> fails.
    [Fact]
    public async Task A_full_queue_is_answered_503_with_retry_after()
    {
        var options = new ImageClassifierEndpointOptions { MaxConcurrentPredictions = 1, MaxQueuedRequests = 0, RetryAfterSeconds = 2 };
        await using var app = await Serve(pipeline.Path, options);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        var photo = File.ReadAllBytes(SampleData.Rows()[0].ImagePath);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v2/classify", Raw(photo, "image/jpeg"))).StatusCode);   // warm

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => http.PostAsync("/v2/classify", Raw(photo, "image/jpeg"))));
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var busy = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        Assert.All(busy, r => Assert.Equal(TimeSpan.FromSeconds(2), r.Headers.RetryAfter?.Delta));
        Assert.Contains("queue is full", await busy[0].Content.ReadAsStringAsync());
        await app.StopAsync();
    }

    // Mutation: UploadReader.Arm doing nothing (no idle or total timeout) -> the stalled uploads are never answered
    // and the test's wait for them runs out -> fails. Mutation: BodyBudget.TryReserve always true -> with a 24 MiB
    // budget the twelve 8 MiB stalled uploads are all held (96 MiB) and none is answered 503 -> fails.
    [Fact]
    public async Task Under_load_of_photos_bombs_and_stalled_uploads_the_server_stays_up_within_its_memory_budget()
    {
        var options = new ImageClassifierEndpointOptions
        {
            MaxConcurrentPredictions = 2, MaxQueuedRequests = 4, MaxQueueWait = TimeSpan.FromSeconds(2),
            MaxBufferedBodyBytes = 24L << 20, BodyIdleTimeout = TimeSpan.FromSeconds(3), BodyTimeout = TimeSpan.FromSeconds(6),
        };
        await using var app = await Serve(pipeline.Path, options);
        var url = new Uri(app.Urls.Single());
        var report = await ServingLoad.Run(url, SampleData.Rows().Take(6).Select(r => File.ReadAllBytes(r.ImagePath)).ToList(),
            [CraftedBombs.Png(), CraftedBombs.Gif(), CraftedBombs.Jpeg(), CraftedBombs.Png(4000)], TimeSpan.FromSeconds(15), stalledUploads: 12);

        output.WriteLine($"good: {report.GoodOk} × 200 (p50 {report.Percentile(50):0} ms, p95 {report.Percentile(95):0} ms), {report.GoodBusy} × 503; bombs refused {report.BombsRefused}; " +
            $"stalled: {report.StalledCut} cut, {report.StalledBusy} busy; working set grew {report.PeakGrowthBytes >> 20} MiB to {report.PeakDuringLoadBytes >> 20} MiB");
        Assert.Empty(report.Unexpected);
        Assert.True(report.GoodOk > 10, $"{report.GoodOk} good requests answered 200");
        Assert.True(report.BombsRefused > 0);
        Assert.Equal(12, report.StalledCut + report.StalledBusy);
        Assert.True(report.StalledBusy > 0, "the body budget turned no stalled upload away");
        Assert.True(report.StalledCut > 0, "no stalled upload was cut by the timeouts");
        // What the endpoint may hold: 24 MiB of uploads + 2 predictions × (32 MiB upload + 2 × 64 MiB decoded), plus 256 MiB for the GC's slack.
        Assert.True(report.PeakGrowthBytes < 700L << 20, $"working set grew {report.PeakGrowthBytes >> 20} MiB");
        using var http = new HttpClient { BaseAddress = url };
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v2/classify", Raw(File.ReadAllBytes(SampleData.Rows()[0].ImagePath), "image/jpeg"))).StatusCode);
        await app.StopAsync();
    }
}
