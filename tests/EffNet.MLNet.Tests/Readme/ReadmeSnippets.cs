using EffNet.MLNet.AspNetCore;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;

namespace EffNet.MLNet.Tests.Readme;

/// <summary>
/// The C# snippets of README.md, compiled here and run by <see cref="ReadmeSnippetTests"/>. Each
/// <c>// &lt;readme name="…"&gt;</c> region is one README block, word for word, except that a line
/// ending in <c>// readme: TEXT</c> appears in the README as TEXT (test paths instead of the
/// README's, <c>StartAsync</c> instead of <c>Run</c>).
/// </summary>
internal static class ReadmeSnippets
{
    public static void Pipeline(IEnumerable<ImageRow> images, string weightsPath, string modelPath)
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(images);                  // rows with ImagePath and Label
        // The label becomes a key before the pipeline, so the saved model needs only the image.
        var labelled = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var options = new EfficientNetFeaturizerOptions { WeightsPath = weightsPath }; // readme: var options = new EfficientNetFeaturizerOptions { Variant = "b0" };   // pretrained; or WeightsPath, OnnxModelPath, RandomInit
        var pipeline = ml.Transforms.ExtractEfficientNetFeatures("Features", "ImagePath", options)
            .AppendCacheCheckpoint(ml)                                  // featurize once; the trainer makes many passes
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(labelled);
        ml.Model.Save(model, data.Schema, modelPath); // readme: ml.Model.Save(model, data.Schema, "model.zip");
        // For stock ML.NET programs that hold images in memory (uploads): the same model, taking an MLImage.
        ImageInputModel.Save(ml, model, data.Schema, Path.ChangeExtension(modelPath, ".images.zip"));
    }

    public static void Trainer(string folder, string weightsPath, string modelPath)
    {
        // <readme name="trainer">
        // readme: using EffNet.MLNet;
        // readme: using EffNet.MLNet.Training;
        // readme: using Microsoft.ML;
        // readme:
        var ml = new MLContext(seed: 0);
        var options = new EfficientNetFeaturizerOptions { WeightsPath = weightsPath }; // readme: var options = new EfficientNetFeaturizerOptions { Variant = "b0" };
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(options: options).Fit(ImageClassifierTrainer.EmptyInput(ml));
        var table = ImageClassifierTrainer.Featurize(ml, featurizer, ImageDataset.FromFolder(folder)); // readme: var table = ImageClassifierTrainer.Featurize(ml, featurizer, ImageDataset.FromFolder("photos"));
        var result = ImageClassifierTrainer.Train(ml, featurizer, table, new TrainingOptions());   // auto: tries four trainers
        ml.Model.Save(result.Model, ImageClassifierTrainer.InputSchema(ml), modelPath); // readme: ml.Model.Save(result.Model, ImageClassifierTrainer.InputSchema(ml), "model.zip");
        // </readme>
    }

    public static ImagePrediction Predictor(string modelPath, string imagePath, byte[] upload)
    {
        // <readme name="predictor">
        // readme: using EffNet.MLNet;
        // readme:
        using var predictor = new PooledPredictor(modelPath);   // readme: using var predictor = new PooledPredictor("model.zip");   // thread-safe; one per model
        var fromFile = predictor.Predict(imagePath);             // readme: var fromFile = predictor.Predict("photos/cat.jpg");
        var fromBytes = predictor.Predict(upload, "upload.jpg"); // bytes, a Stream or an MLImage: no temporary file
        Console.WriteLine($"{fromBytes.PredictedLabel}: {string.Join(", ", fromBytes.Scores.Select(s => $"{s.Label} {s.Score:P0}"))}");
        // </readme>
        return fromFile with { };
    }

    public static async Task<WebApplication> WebApp(string[] args, string modelPath)
    {
        // <readme name="aspnet">
        // readme: using EffNet.MLNet;
        // readme: using EffNet.MLNet.AspNetCore;
        // readme: using EffNet.MLNet.Imaging;
        // readme:
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddImageClassifier(modelPath);   // readme: builder.Services.AddImageClassifier("model.zip");      // one shared model, reloaded when the file changes
        var app = builder.Build();

        // curl --data-binary @photo.jpg http://localhost:5000/classify   (the raw body, whatever its content type)
        app.MapPost("/classify", async (HttpRequest request, PooledPredictor predictor) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            try
            {
                var p = predictor.Predict(body.ToArray(), "upload");
                return Results.Ok(new { label = p.PredictedLabel, scores = p.Scores });   // [{ label, score }], highest first
            }
            catch (BadImageException e)
            {
                return Results.BadRequest(new { error = e.Message });   // empty, not an image, truncated, corrupt, too large
            }
        });
        // the same, ready-made, for the raw body or a file field (curl -F upload=@photo.jpg http://localhost:5000/v2/classify);
        // busy: 503 + Retry-After, stalled uploads cut (limits: MapImageClassifier("/v2/classify", new ImageClassifierEndpointOptions { … }))
        app.MapImageClassifier("/v2/classify");
        await app.StartAsync(); // readme: app.Run();
        // </readme>
        return app;
    }
}
