using System.Globalization;

namespace EffNet.MLNet;

/// <summary>
/// Versions of the code that turns pixels into features, beyond what the user chose: a change to
/// any of them changes the features, so each is part of
/// <see cref="EfficientNetFeaturizerTransformer.FeatureIdentity"/> and a feature cache filled by an
/// earlier version is never served to a later one.
/// </summary>
/// <param name="GraphBuilder">The ONNX graph emitted for a backbone (or the adapter around a bring-your-own model).</param>
/// <param name="BatchNormFolding">How checkpoint batch-norm is folded into the convolutions.</param>
/// <param name="RandomWeights">How seeded random weights are drawn (used only with random initialisation).</param>
/// <param name="Decoder">The fast image decoder (used only when it decodes).</param>
/// <param name="NativeImaging">The native imaging library that decodes and resizes images on both paths (SkiaSharp's Skia build).</param>
/// <param name="OnnxRuntime">The native ONNX Runtime that runs the graph: its kernels (and the graph optimisations they allow) change the last bits of a feature.</param>
internal sealed record FeatureVersions(string GraphBuilder, string BatchNormFolding, string RandomWeights, string Decoder, string NativeImaging, string OnnxRuntime)
{
    private static readonly AsyncLocal<FeatureVersions?> Substitute = new();

    /// <summary>The versions of the running code.</summary>
    public static FeatureVersions Running { get; } = new(
        Onnx.EfficientNetOnnxExporter.GraphVersion,
        Weights.BatchNormFolding.Version,
        Onnx.RandomWeights.Version,
        Imaging.FastImageDecoder.Version,
        NativeImagingVersion(),
        OnnxRuntimeVersion());

    /// <summary>What identities are computed with: <see cref="Running"/>, unless a test substituted others.</summary>
    public static FeatureVersions Current => Substitute.Value ?? Running;

    /// <summary>Make <see cref="Current"/> return <paramref name="versions"/> in this async flow until disposed (tests).</summary>
    internal static IDisposable Use(FeatureVersions versions)
    {
        var previous = Substitute.Value;
        Substitute.Value = versions;
        return new Restore(previous);
    }

    /// <summary>
    /// The identity suffix for a featurizer that decodes with the fast decoder or not, over random or loaded
    /// weights, run by ONNX Runtime on <paramref name="provider"/> (a GPU's kernels give other last bits than the CPU's).
    /// </summary>
    public string Describe(bool fastDecoder, bool randomWeights, ExecutionProvider provider) =>
        string.Create(CultureInfo.InvariantCulture, $"graph={GraphBuilder};bn-fold={BatchNormFolding}")
        + (randomWeights ? $";random-weights={RandomWeights}" : "")
        + (fastDecoder ? $";decode=fast-{Decoder}" : ";decode=mlnet")
        + $";imaging=skia-{NativeImaging}"
        + $";ort={OnnxRuntime};provider={provider.ToString().ToLowerInvariant()}";

    private static string OnnxRuntimeVersion()
    {
        try { return Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            // Without the native library nothing runs; the identity still must not claim a version.
            return "unavailable";
        }
    }

    private static string NativeImagingVersion()
    {
        try { return SkiaSharp.SkiaSharpVersion.Native.ToString(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            // Without the native library nothing decodes; the identity still must not claim a version.
            return "unavailable";
        }
    }

    private sealed class Restore(FeatureVersions? previous) : IDisposable
    {
        public void Dispose() => Substitute.Value = previous;
    }
}
