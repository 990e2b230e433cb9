namespace EffNet.MLNet.AspNetCore;

/// <summary>
/// How much work and memory one endpoint mapped by <c>MapImageClassifier</c> lets its requests take.
/// Over a limit a request is answered at once — 503 with <c>Retry-After</c> when the server is busy,
/// 413 when the upload is too large, 408 when it stalls — so overload never takes the process down.
/// </summary>
/// <remarks>
/// Worst-case memory of one endpoint, beyond the loaded model: <see cref="MaxBufferedBodyBytes"/> for the
/// uploads being received, plus, for each of <see cref="MaxConcurrentPredictions"/> predictions, a copy of
/// its upload and twice the model's <c>PooledPredictorOptions.MaxDecodedBytes</c> (the decoded pixels and
/// ML.NET's image of them). With the defaults on a 4-core machine: 128 MiB + 4 × (32 + 2 × 64) MiB ≈ 768 MiB.
/// </remarks>
public sealed record ImageClassifierEndpointOptions
{
    /// <summary>Requests decoding and predicting at once; more wait in the queue. Default: one per core.</summary>
    public int? MaxConcurrentPredictions { get; init; }

    /// <summary>
    /// Requests with a received upload waiting for a prediction slot; beyond them, 503. Their uploads count
    /// against <see cref="MaxBufferedBodyBytes"/>, which bounds their memory. Default: 16 per core.
    /// </summary>
    public int? MaxQueuedRequests { get; init; }

    /// <summary>Longest wait in the queue before a request is answered 503. Default: 10 seconds.</summary>
    public TimeSpan MaxQueueWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest image accepted (a multipart body may be 1 MiB more, for its headers); larger uploads get 413. Default: 32 MiB.</summary>
    public long MaxImageBytes { get; init; } = ImageClassifierEndpoints.MaxImageBytes;

    /// <summary>
    /// Bytes of request bodies held at once across all requests of the endpoint, received or waiting for a
    /// prediction, counted in 64 KiB blocks as they arrive; beyond it, 503. Default: 128 MiB.
    /// </summary>
    public long MaxBufferedBodyBytes { get; init; } = 128L << 20;

    /// <summary>An upload that sends nothing for this long is cut with 408. Default: 10 seconds.</summary>
    public TimeSpan BodyIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>An upload not received in full within this time is cut with 408, however steadily it trickles. Default: 30 seconds.</summary>
    public TimeSpan BodyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The <c>Retry-After</c> of a 503, in seconds. Default: 1.</summary>
    public int RetryAfterSeconds { get; init; } = 1;
}
