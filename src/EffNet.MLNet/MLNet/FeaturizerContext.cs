using Microsoft.ML.Runtime;

namespace EffNet.MLNet;

/// <summary>
/// What the featurizer borrows from the caller's MLContext: its log (messages arrive on
/// <c>MLContext.Log</c> with source <c>EfficientNetFeaturizer</c>), its seed, and its cancellation
/// (<c>CancelExecution()</c>), together with <see cref="EfficientNetFeaturizerOptions.CancellationToken"/>.
/// </summary>
internal sealed class FeaturizerContext
{
    public const string Source = "EfficientNetFeaturizer";

    public FeaturizerContext(IHostEnvironment environment, CancellationToken cancellationToken)
    {
        Environment = environment;
        CancellationToken = cancellationToken;
    }

    /// <summary>The context behind <paramref name="ml"/>'s catalogs (where ML.NET's own components log).</summary>
    public static FeaturizerContext Of(Microsoft.ML.MLContext ml, CancellationToken cancellationToken = default) =>
        new(CatalogEnvironment.Of(ml.Transforms) ?? ml, cancellationToken);

    public IHostEnvironment Environment { get; }

    public CancellationToken CancellationToken { get; }

    public void Info(string message)
    {
        using var channel = Environment.Start(Source);
        channel.Info(MessageSensitivity.None, message);
    }

    public void Warning(string message)
    {
        using var channel = Environment.Start(Source);
        channel.Warning(MessageSensitivity.None, message);
    }

    /// <summary>Throws <see cref="OperationCanceledException"/> once the token or the context is cancelled.</summary>
    public void ThrowIfCancelled()
    {
        CancellationToken.ThrowIfCancellationRequested();
        if (CatalogEnvironment.IsCancelled(Environment))
            throw new OperationCanceledException("The MLContext's execution was cancelled (CancelExecution).");
    }

    /// <summary>A seed drawn from the context's own: fixed by <c>new MLContext(seed: N)</c>, different each run without one.</summary>
    public int DrawSeed() => Environment.Register(Source).Rand.Next();
}
