using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EffNet.MLNet.AspNetCore;

namespace EffNet.MLNet.Tests.MultiLabel;

/// <summary>
/// A multi-label model behind <c>MapImageClassifier</c> on Kestrel at 127.0.0.1: the answer carries the labels at or over
/// their thresholds and every probability, as <c>effnet predict --json</c> gives them, and hostile uploads meet the
/// single-label endpoint's refusals.
/// </summary>
public class MultiLabelServingTests(MultiLabelTrainingTests.ShapeColourFeatures f) : IClassFixture<MultiLabelTrainingTests.ShapeColourFeatures>
{
    private static ByteArrayContent Raw(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    // Mutation (run): PooledPredictor.ToPrediction pairs label i with Thresholds[^(i + 1)] (thresholds reversed) -> the thresholds
    // and the labels over them differ from effnet predict's -> fails.
    // Mutation (run): ModelGeneration maps ScoreRow.Score to "Score" for a multi-label model too -> its engines find no such column
    // (the chain drops the binary predictors' Score) -> 500 -> fails.
    [Fact]
    public async Task A_multi_label_model_answers_every_label_over_its_threshold_with_the_probabilities_effnet_predict_gives()
    {
        using var dir = new TempDir();
        var model = dir.File("tags.zip");
        f.SaveWithReport(f.Result, model);
        var images = f.Result.ValidationImages.Take(6).Select(i => i.ImagePath).ToArray();
        var predict = CliTests.Effnet(["predict", "--model", model, "--json", .. images]);
        Assert.True(predict.Code == 0, predict.Out + predict.Err);
        var expected = JsonDocument.Parse(predict.Out).RootElement.EnumerateArray().ToList();

        using (var predictor = new PooledPredictor(model, new PooledPredictorOptions { WatchForChanges = false }))
        {
            Assert.True(predictor.IsMultiLabel);
            Assert.Equal(f.Result.Thresholds, predictor.Thresholds);
            Assert.Equal(ShapeColourImages.Labels, predictor.Labels);
        }

        await using var app = await ImageClassifierEndpointTests.Serve(model);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        var labelled = 0;
        for (var i = 0; i < images.Length; i++)
        {
            var bytes = File.ReadAllBytes(images[i]);
            // The raw body and curl -F's multipart form, alternately.
            HttpContent request = i % 2 == 0 ? Raw(bytes, "image/png") : new MultipartFormDataContent { { new ByteArrayContent(bytes), "upload", Path.GetFileName(images[i]) } };
            var response = await http.PostAsync("/v2/classify", request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{images[i]}: {response.StatusCode} {body}");
            var got = JsonDocument.Parse(body).RootElement;
            Assert.False(got.TryGetProperty("scores", out _));   // not the single-label answer

            var wantLabels = expected[i].GetProperty("labels").EnumerateArray().Select(l => l.GetString()).ToList();
            Assert.Equal(wantLabels, got.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
            labelled += wantLabels.Count;
            var want = expected[i].GetProperty("probabilities").EnumerateArray().ToList();
            var have = got.GetProperty("probabilities").EnumerateArray().ToList();
            Assert.Equal(want.Select(p => p.GetProperty("label").GetString()), have.Select(p => p.GetProperty("label").GetString()));
            Assert.Equal(want.Select(p => p.GetProperty("threshold").GetSingle()), have.Select(p => p.GetProperty("threshold").GetSingle()));
            for (var j = 0; j < want.Count; j++)
                Assert.Equal(want[j].GetProperty("probability").GetSingle(), have[j].GetProperty("probability").GetSingle(), 1e-6f);
        }
        Assert.True(labelled >= images.Length, $"{labelled} labels over their thresholds on {images.Length} images");   // each image has a shape and a colour
        await app.StopAsync();
    }

    // Mutation (run): ModelGeneration.CheckedLabels without the slot-name comparison -> the reordered report is taken and its
    // thresholds judge other labels' probabilities -> no exception -> fails. The rule is MultiLabelSlots', the CLI's too.
    [Fact]
    public void A_model_json_whose_labels_are_not_the_models_is_refused_naming_the_report()
    {
        using var dir = new TempDir();
        var model = dir.File("tags.zip");
        f.SaveWithReport(f.Result, model);
        var report = dir.File("tags.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(report))!;
        json["labels"] = new System.Text.Json.Nodes.JsonArray([.. ShapeColourImages.Labels.Reverse().Select(l => (System.Text.Json.Nodes.JsonNode?)l)]);
        File.WriteAllText(report, json.ToJsonString());

        var ex = Assert.Throws<InvalidDataException>(() => new PooledPredictor(model, new PooledPredictorOptions { WatchForChanges = false }));
        Assert.Contains($"'{report}' names the labels square;red;disc;blue but '{model}' outputs blue;disc;red;square: the two do not belong together", ex.Message);
    }

    // Mutation (run): ServingModel without its multi-label-without-report check -> the generic "does not produce a 'PredictedLabel'
    // column" message -> fails.
    [Fact]
    public void A_multi_label_model_without_its_model_json_is_refused_saying_so()
    {
        using var dir = new TempDir();
        var model = dir.File("tags.zip");
        f.SaveWithReport(f.Result, model);
        File.Delete(dir.File("tags.json"));

        var ex = Assert.Throws<InvalidDataException>(() => new PooledPredictor(model, new PooledPredictorOptions { WatchForChanges = false }));
        Assert.Contains("is a multi-label model (a Probability vector, no Score) but its model.json", ex.Message);
    }

    // Mutation (run): MapImageClassifier makes its UploadReader from `options with { MaxImageBytes = long.MaxValue }` -> the 200 KB
    // upload is read and answered 400 "not an image" instead of 413 -> fails.
    // Mutation (run): PooledPredictor.Predict(Stream) decoding with MaxDecodedBytes = long.MaxValue -> the PNG bomb is not refused
    // from the decoding budget but from the pixels-a-byte ratio, with another reason -> fails.
    [Fact]
    public async Task Oversized_undecodable_and_bomb_uploads_to_a_multi_label_model_get_the_single_label_refusals()
    {
        using var dir = new TempDir();
        var model = dir.File("tags.zip");
        f.SaveWithReport(f.Result, model);
        await using var app = await ImageClassifierEndpointTests.Serve(model, new ImageClassifierEndpointOptions { MaxImageBytes = 100_000 });
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

        var refused = new (string What, HttpContent Request, HttpStatusCode Status, string Title, string Says)[]
        {
            ("200 KB raw body over a 100 KB limit", Raw(new byte[200_000], "image/png"), HttpStatusCode.RequestEntityTooLarge, "Upload too large", "The upload is larger than 100,000 bytes."),
            ("HTML as the file of a form", new MultipartFormDataContent { { Raw("<html></html>"u8.ToArray(), "text/html"), "upload", "page.html" } },
                HttpStatusCode.BadRequest, "Not a usable image", "'page.html' is not an image"),
            ("empty raw body", Raw([], "image/png"), HttpStatusCode.BadRequest, "Not a usable image", "'upload' (the raw body, sent as image/png) is empty (0 bytes)"),
            ("13,000² PNG bomb", Raw(CraftedBombs.Png(), "image/png"), HttpStatusCode.BadRequest, "Not a usable image",
                "'upload' (the raw body, sent as image/png) declares 13000×13000 pixels, 645 MiB decoded, more than the decoding budget of 64 MiB"),
        };
        foreach (var (what, request, status, title, says) in refused)
        {
            var response = await http.PostAsync("/v2/classify", request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{what}: {response.StatusCode} {body}");
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal(title, problem.GetProperty("title").GetString());
            Assert.Contains(says, problem.GetProperty("detail").GetString());
        }
        // The server is still up and answers a good image.
        var good = await http.PostAsync("/v2/classify", Raw(File.ReadAllBytes(f.Result.ValidationImages[0].ImagePath), "image/png"));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        await app.StopAsync();
    }
}
