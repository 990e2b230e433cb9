using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace EffNet.MLNet.AspNetCore;

/// <summary>An image upload held in memory: the bytes, the name errors give it, and its share of the endpoint's <see cref="BodyBudget"/> until disposed.</summary>
internal sealed class Upload(UploadBuffer bytes, string name) : IDisposable
{
    public string Name { get; } = name;

    /// <summary>The image bytes as a read-only stream (no copy).</summary>
    public Stream Open() => bytes.Open();

    public void Dispose() => bytes.Release();
}

/// <summary>
/// Reads the image of a request: a multipart/form-data body's first file field, or else the raw body
/// whatever its content type says (curl's <c>--data-binary</c> sends <c>application/x-www-form-urlencoded</c>
/// by default). The bytes are counted against the endpoint's budget as they arrive, and an upload that
/// stalls or trickles past its time is cut.
/// </summary>
internal sealed class UploadReader(ImageClassifierEndpointOptions options, BodyBudget budget)
{
    private const int MultipartOverhead = 1 << 20;

    /// <exception cref="UploadRefusedException">The upload is too large, malformed, stalled, or the budget is spent.</exception>
    public async Task<Upload> ReadAsync(HttpRequest request, CancellationToken aborted)
    {
        var multipart = Boundary(request.ContentType);
        var limit = options.MaxImageBytes + (multipart is null ? 0 : MultipartOverhead);
        if (request.ContentLength > limit) throw TooLarge();
        var buffer = new UploadBuffer(budget);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            var started = Environment.TickCount64;
            var name = "upload";
            try
            {
                if (multipart is null) await Copy(request.Body, buffer, deadline, started);
                else name = await ReadFirstFile(new MultipartReader(multipart, request.Body) { BodyLengthLimit = limit }, buffer, deadline, started);
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                throw new UploadRefusedException(StatusCodes.Status408RequestTimeout, "Upload too slow",
                    $"The upload stalled: no data for {options.BodyIdleTimeout.TotalSeconds:0} s, or not complete within {options.BodyTimeout.TotalSeconds:0} s.");
            }
            catch (InvalidDataException ex)   // a malformed multipart body, or one past BodyLengthLimit
            {
                throw new UploadRefusedException(StatusCodes.Status400BadRequest, "Not a readable upload", $"The multipart body cannot be read: {ex.Message}");
            }
            return new Upload(buffer, name);
        }
        catch
        {
            buffer.Release();
            throw;
        }
    }

    private async Task<string> ReadFirstFile(MultipartReader reader, UploadBuffer buffer, CancellationTokenSource deadline, long started)
    {
        var fields = new List<string>();
        while (true)
        {
            Arm(deadline, started);
            var section = await reader.ReadNextSectionAsync(deadline.Token);
            if (section is null) break;
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFileDisposition())
            {
                await Copy(section.Body, buffer, deadline, started);
                var file = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                return string.IsNullOrWhiteSpace(file) ? "upload" : Path.GetFileName(file);
            }
            fields.Add(disposition is not null && disposition.Name.HasValue ? HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "?" : "?");
            await section.Body.DrainAsync(deadline.Token);
        }
        throw new UploadRefusedException(StatusCodes.Status400BadRequest, "No image in the form",
            (fields.Count == 0 ? "The multipart form has no parts" : $"The multipart form has no file field (its fields: {string.Join(", ", fields.Take(8))})")
            + ": send the image as a file field (curl -F upload=@photo.jpg) or as the raw body (curl --data-binary @photo.jpg).");
    }

    private async Task Copy(Stream body, UploadBuffer buffer, CancellationTokenSource deadline, long started)
    {
        while (true)
        {
            var free = buffer.Free();
            if (free.IsEmpty) throw Busy();
            Arm(deadline, started);
            var read = await body.ReadAsync(free, deadline.Token);
            if (read == 0) return;
            if (buffer.Length + read > options.MaxImageBytes) throw TooLarge();
            buffer.Advance(read);
        }
    }

    // Cancel at the idle timeout from now, or at the whole body's deadline if that comes first.
    private void Arm(CancellationTokenSource deadline, long started)
    {
        var left = options.BodyTimeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
        deadline.CancelAfter(left < options.BodyIdleTimeout ? (left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1)) : options.BodyIdleTimeout);
    }

    private UploadRefusedException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "Upload too large", $"The upload is larger than {options.MaxImageBytes:N0} bytes.");

    private UploadRefusedException Busy() =>
        new(StatusCodes.Status503ServiceUnavailable, "Server busy", $"The server holds {budget.Capacity:N0} bytes of uploads already; try again shortly.");

    private static string? Boundary(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type) && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            ? HeaderUtilities.RemoveQuotes(type.Boundary).Value is { Length: > 0 } boundary ? boundary
                : throw new UploadRefusedException(StatusCodes.Status400BadRequest, "Not a readable upload", "The multipart/form-data body declares no boundary.")
            : null;
}
