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

/// <summary>Maps an endpoint that classifies the image in a request's body.</summary>
public static class ImageClassifierEndpoints
{
    /// <summary>Largest request body accepted by <see cref="MapImageClassifier"/>: 32 MiB.</summary>
    public const long MaxImageBytes = 32L << 20;

    /// <summary>
    /// POST an encoded image (the raw body, or the first file of a multipart form) to
    /// <paramref name="pattern"/>; the answer is a <see cref="ClassificationResponse"/>. A body that is
    /// not a usable image (empty, not an image, truncated, corrupt, too large) is answered with
    /// 400 and a problem description naming the upload and the reason.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">The route, e.g. <c>/classify</c>.</param>
    /// <param name="modelName">The registered model to use; default: the one registered without a name.</param>
    public static RouteHandlerBuilder MapImageClassifier(this IEndpointRouteBuilder endpoints, string pattern, string modelName = ImageClassifiers.DefaultName) =>
        endpoints.MapPost(pattern, async (HttpRequest request, ImageClassifiers classifiers, CancellationToken cancel) =>
        {
            // Kestrel's own limit (30,000,000 bytes) would otherwise answer first, with a bare 413.
            if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxImageBytes + (1 << 20);
            byte[] bytes;
            string name;
            bool tooLarge;
            try { (bytes, name, tooLarge) = await ReadImage(request, cancel); }
            catch (InvalidDataException ex)   // a malformed multipart body
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Not a readable upload");
            }
            if (tooLarge) return Results.Problem($"The upload is larger than {MaxImageBytes:N0} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);
            try
            {
                var prediction = classifiers[modelName].Predict(bytes, name);
                return Results.Ok(new ClassificationResponse(prediction.PredictedLabel, prediction.Scores));
            }
            catch (BadImageException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Not a usable image");
            }
        }).DisableAntiforgery();

    private static async Task<(byte[] Bytes, string Name, bool TooLarge)> ReadImage(HttpRequest request, CancellationToken cancel)
    {
        Stream body = request.Body;
        var name = "upload";
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancel);
            if (form.Files.Count > 0)
            {
                name = form.Files[0].FileName;
                body = form.Files[0].OpenReadStream();
            }
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancel)) > 0)
        {
            if (buffer.Length + read > MaxImageBytes) return ([], name, true);
            buffer.Write(chunk, 0, read);
        }
        return (buffer.ToArray(), name, false);
    }
}
