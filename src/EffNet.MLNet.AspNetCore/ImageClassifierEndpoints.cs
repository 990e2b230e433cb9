using EffNet.MLNet.Imaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EffNet.MLNet.AspNetCore;

/// <summary>The JSON answer of a classification endpoint: the label, and every class with its score, highest first.</summary>
/// <param name="Label">The predicted label.</param>
/// <param name="Scores">Each class with its score, highest first.</param>
public sealed record ClassificationResponse(string Label, IReadOnlyList<LabelScore> Scores);

/// <summary>
/// The JSON answer of a classification endpoint serving a multi-label model (<c>model.json</c> says <c>task: "multi-label"</c>):
/// every label at or over its threshold, most probable first, and every label with its probability and threshold —
/// the fields of <c>effnet predict --json</c>.
/// </summary>
/// <param name="Labels">The labels at or over their thresholds, most probable first; empty when there is none.</param>
/// <param name="Probabilities">Every label with its probability and threshold, in the model's label order.</param>
public sealed record MultiLabelClassificationResponse(IReadOnlyList<string> Labels, IReadOnlyList<LabelProbability> Probabilities);

/// <summary>Maps an endpoint that classifies the image in a request's body.</summary>
public static class ImageClassifierEndpoints
{
    /// <summary>Largest request body accepted by <see cref="MapImageClassifier(IEndpointRouteBuilder, string, string)"/>: 32 MiB.</summary>
    public const long MaxImageBytes = 32L << 20;

    /// <summary>
    /// POST an encoded image to <paramref name="pattern"/>: the raw body, whatever its content type
    /// (<c>image/jpeg</c>, <c>application/octet-stream</c>, or curl's default for <c>--data-binary</c>,
    /// <c>application/x-www-form-urlencoded</c>), or the first file field of a multipart/form-data upload
    /// (<c>curl -F upload=@photo.jpg</c>). The answer is a <see cref="ClassificationResponse"/>, or for a multi-label
    /// model a <see cref="MultiLabelClassificationResponse"/>, under the same limits and refusals. A body that is
    /// not a usable image (empty, not an image, truncated, corrupt, too large to decode) is answered with 400
    /// and a problem description naming the upload and the reason; a form without a file, with 400 saying so.
    /// The work and memory requests may take are bounded by <see cref="ImageClassifierEndpointOptions"/>'s
    /// defaults: a busy server answers 503 with <c>Retry-After</c>, a too-large upload 413, a stalled one 408.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">The route, e.g. <c>/classify</c>.</param>
    /// <param name="modelName">The registered model to use; default: the one registered without a name.</param>
    public static RouteHandlerBuilder MapImageClassifier(this IEndpointRouteBuilder endpoints, string pattern, string modelName = ImageClassifiers.DefaultName) =>
        endpoints.MapImageClassifier(pattern, new ImageClassifierEndpointOptions(), modelName);

    /// <summary>
    /// As <see cref="MapImageClassifier(IEndpointRouteBuilder, string, string)"/>, with the limits on concurrent
    /// predictions, queued requests, buffered uploads and upload time set by <paramref name="options"/>. Each
    /// mapped endpoint has its own limits.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">The route, e.g. <c>/classify</c>.</param>
    /// <param name="options">The endpoint's limits.</param>
    /// <param name="modelName">The registered model to use; default: the one registered without a name.</param>
    public static RouteHandlerBuilder MapImageClassifier(this IEndpointRouteBuilder endpoints, string pattern, ImageClassifierEndpointOptions options, string modelName = ImageClassifiers.DefaultName)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cores = Environment.ProcessorCount;
        var gate = new PredictionGate(Positive(options.MaxConcurrentPredictions ?? cores, "MaxConcurrentPredictions"), Math.Max(0, options.MaxQueuedRequests ?? 16 * cores));
        var reader = new UploadReader(options, new BodyBudget(Positive(options.MaxBufferedBodyBytes, "MaxBufferedBodyBytes")));
        return endpoints.MapPost(pattern, async (HttpContext context, ImageClassifiers classifiers) =>
        {
            // Kestrel's own limit (30,000,000 bytes) would otherwise answer first, with a bare 413.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = options.MaxImageBytes + (1 << 20);
            Upload upload;
            try { upload = await reader.ReadAsync(context.Request, context.RequestAborted); }
            catch (UploadRefusedException ex) { return Refused(context, ex.Status, ex.Title, ex.Message, options); }
            using (upload)
            {
                using var slot = await gate.EnterAsync(options.MaxQueueWait, context.RequestAborted);
                if (slot is null)
                    return Refused(context, StatusCodes.Status503ServiceUnavailable, "Server busy", "Every prediction slot is taken and the queue is full; try again shortly.", options);
                try
                {
                    using var image = upload.Open();
                    var prediction = classifiers[modelName].Predict(image, upload.Name);
                    // The prediction says which kind of model made it: a reload between requests may change the kind.
                    return prediction.Probabilities.Count > 0
                        ? Results.Ok(new MultiLabelClassificationResponse(prediction.PredictedLabels, prediction.Probabilities))
                        : Results.Ok(new ClassificationResponse(prediction.PredictedLabel, prediction.Scores));
                }
                catch (BadImageException ex)
                {
                    // A raw body says how it was sent: a form posted by mistake then reads as what it is.
                    var detail = context.Request.ContentType is { Length: > 0 } type && !type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)
                        ? $"'{ex.InputName}' (the raw body, sent as {type}) {ex.Reason}." : ex.Message;
                    return Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Not a usable image");
                }
            }
        }).DisableAntiforgery();
    }

    private static IResult Refused(HttpContext context, int status, string title, string detail, ImageClassifierEndpointOptions options)
    {
        if (status == StatusCodes.Status503ServiceUnavailable) context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(detail, statusCode: status, title: title);
    }

    private static T Positive<T>(T value, string name) where T : System.Numerics.INumber<T> =>
        value > T.Zero ? value : throw new ArgumentOutOfRangeException(name, value, $"ImageClassifierEndpointOptions.{name} must be positive.");
}
