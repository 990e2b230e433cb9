using EffNet.MLNet.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace EffNet.MLNet;

/// <summary>
/// One ONNX Runtime session over a feature-extractor graph (<c>pixels</c> → <c>features</c>).
/// Thread-safe: <see cref="Run(ReadOnlyMemory{float}, int, Memory{float})"/> may be called from several
/// threads at once, as ONNX Runtime documents for <c>InferenceSession.Run</c>. On a CPU, concurrent
/// runs with one intra-op thread each (one per core) outran one run at a time over every core by
/// about 1.3× for B0 on two cores (docs/BENCHMARKS.md), which is why the featurizer runs that way by default.
/// </summary>
internal sealed class FeatureSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;

    /// <summary>Open a session over serialized ONNX bytes.</summary>
    /// <param name="model">The graph.</param>
    /// <param name="intraOpThreads">Threads per run; 0 lets ONNX Runtime choose (one per core).</param>
    /// <param name="provider">CPU (default) or CUDA.</param>
    /// <param name="cudaDeviceId">GPU ordinal for <see cref="ExecutionProvider.Cuda"/>.</param>
    public FeatureSession(byte[] model, int intraOpThreads = 0, ExecutionProvider provider = ExecutionProvider.Cpu, int cudaDeviceId = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var options = CreateOptions(intraOpThreads, provider, cudaDeviceId);
        _session = new InferenceSession(model, options);
        _inputName = _session.InputMetadata.ContainsKey(EfficientNetOnnxExporter.InputName)
            ? EfficientNetOnnxExporter.InputName : _session.InputMetadata.Keys.First();
        _outputName = _session.OutputMetadata.ContainsKey(EfficientNetOnnxExporter.OutputName)
            ? EfficientNetOnnxExporter.OutputName : _session.OutputMetadata.Keys.First();
        var dims = _session.InputMetadata[_inputName].Dimensions;
        if (dims.Length != 4 || dims[1] != 3 || dims[2] <= 0 || dims[3] <= 0)
            throw new ArgumentException($"The graph's input '{_inputName}' has shape [{string.Join(", ", dims)}]; expected [N, 3, H, W] with fixed H and W.", nameof(model));
        InputHeight = dims[2];
        InputWidth = dims[3];
        FeatureDimension = _session.OutputMetadata[_outputName].Dimensions[^1];
        ConcurrentRuns = provider == ExecutionProvider.Cuda || intraOpThreads <= 0
            ? 1
            : Math.Max(1, Environment.ProcessorCount / intraOpThreads);
    }

    /// <summary>
    /// How many runs the featurizer keeps going at once on this session: enough to fill every core
    /// with runs of <c>intraOpThreads</c> each; one when the runs already use every core (0) or a GPU.
    /// </summary>
    internal int ConcurrentRuns { get; }

    /// <summary>Height of the input the graph accepts.</summary>
    public int InputHeight { get; }

    /// <summary>Width of the input the graph accepts.</summary>
    public int InputWidth { get; }

    /// <summary>Length of each output vector.</summary>
    public int FeatureDimension { get; }

    /// <summary>Floats in one image's input tensor.</summary>
    public int ImageSize => 3 * InputHeight * InputWidth;

    /// <summary>
    /// Run <paramref name="batch"/> images laid out [N, 3, H, W] in <paramref name="pixels"/>;
    /// writes [N, D] into <paramref name="features"/>.
    /// </summary>
    public void Run(ReadOnlyMemory<float> pixels, int batch, Memory<float> features)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch));
        if (pixels.Length < batch * ImageSize) throw new ArgumentException($"Expected {batch * ImageSize} input floats, got {pixels.Length}.", nameof(pixels));
        if (features.Length < batch * FeatureDimension) throw new ArgumentException($"Expected room for {batch * FeatureDimension} output floats, got {features.Length}.", nameof(features));
        var info = OrtMemoryInfo.DefaultInstance;
        using var input = OrtValue.CreateTensorValueFromMemory(info, System.Runtime.InteropServices.MemoryMarshal.AsMemory(pixels[..(batch * ImageSize)]),
            [batch, 3, InputHeight, InputWidth]);
        using var output = OrtValue.CreateTensorValueFromMemory(info, features[..(batch * FeatureDimension)], [batch, FeatureDimension]);
        using var runOptions = new RunOptions();
        _session.Run(runOptions, [_inputName], [input], [_outputName], [output]);
    }

    /// <summary>Convenience overload that allocates the output.</summary>
    public float[] Run(float[] pixels, int batch)
    {
        var features = new float[batch * FeatureDimension];
        Run(pixels, batch, features);
        return features;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    internal static SessionOptions CreateOptions(int intraOpThreads, ExecutionProvider provider, int cudaDeviceId)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Math.Max(0, intraOpThreads),
        };
        // Idle intra-op threads otherwise spin for a while after each run, stealing cores from
        // the image decoding (or another session) that runs between batches.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        // Real photos drive some intermediate values into denormal floats, which the CPU computes
        // slowly: on decoded images B0 ran 11% slower than on zeros. Flushing them to zero (values
        // below 1.2e-38, far under the features' precision) won back 6%.
        options.AddSessionConfigEntry("session.set_denormal_as_zero", "1");
        if (provider == ExecutionProvider.Cuda)
        {
            try { AppendCuda(options, cudaDeviceId); }
            catch
            {
                options.Dispose();
                throw;
            }
        }
        return options;
    }

    /// <summary>
    /// Throws the actionable error when <paramref name="provider"/> cannot run on this install, before
    /// anything else (ML.NET's own ONNX transform) meets it as a bare native-library error.
    /// </summary>
    /// <exception cref="InvalidOperationException">CUDA was asked for and is not available.</exception>
    public static void EnsureAvailable(ExecutionProvider provider, int cudaDeviceId)
    {
        if (provider != ExecutionProvider.Cuda) return;
        using var options = new SessionOptions();
        AppendCuda(options, cudaDeviceId);
    }

    private static void AppendCuda(SessionOptions options, int cudaDeviceId)
    {
        try
        {
            options.AppendExecutionProvider_CUDA(cudaDeviceId);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            throw new InvalidOperationException(
                "The CUDA execution provider is not available: reference Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime " +
                $"and make sure a CUDA driver and cuDNN are installed, or set EfficientNetFeaturizerOptions.ExecutionProvider = ExecutionProvider.Cpu. ({ex.Message})", ex);
        }
    }
}
