using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet;

/// <summary>
/// Options of <see cref="EfficientNetCatalog.ExtractEfficientNetFeatures(Microsoft.ML.TransformsCatalog, string, string, EfficientNetFeaturizerOptions?)"/>.
/// The backbone is, in order of precedence: <see cref="OnnxModelPath"/> (your own exported
/// EfficientNet), <see cref="WeightsPath"/> (a torchvision or timm checkpoint),
/// <see cref="RandomInit"/> (seeded random weights, for tests), or the pretrained ImageNet
/// weights of <see cref="Variant"/> from the catalog (downloaded once into <c>EFFNET_HOME</c>).
/// </summary>
public sealed record EfficientNetFeaturizerOptions
{
    /// <summary>
    /// <c>b0</c>…<c>b7</c> (<see cref="EfficientNetVariants.B0"/>…<see cref="EfficientNetVariants.B7"/>),
    /// <c>phi=X</c> (<see cref="EfficientNetVariants.Phi"/>) or <c>w=W,d=D,r=R</c> (<see cref="EfficientNetVariants.Custom"/>). Default: <c>b0</c>.
    /// </summary>
    public string Variant { get; init; } = "b0";

    /// <summary>A torchvision (<c>features.N…</c>) or timm checkpoint, <c>.pth</c> or <c>.safetensors</c>, for <see cref="Variant"/>.</summary>
    public string? WeightsPath { get; init; }

    /// <summary>
    /// The library <see cref="WeightsPath"/> comes from, which decides batch-norm ε and padding:
    /// timm's <c>tf_efficientnet_bN</c> and <c>efficientnet_bN</c> cannot be told apart by their
    /// tensors. Default: <see cref="CheckpointFamily.Auto"/>, which reads it from the tensor names
    /// and timm's file names, and refuses a timm checkpoint whose file name does not say.
    /// </summary>
    public CheckpointFamily WeightsFamily { get; init; } = CheckpointFamily.Auto;

    /// <summary>A full EfficientNet classifier exported to ONNX elsewhere; its head is cut off and its pooled features used.</summary>
    public string? OnnxModelPath { get; init; }

    /// <summary>
    /// Let <see cref="OnnxModelPath"/> keep tensor data in separate files (ONNX external data). Off by
    /// default: such a model is refused. When on, each data file must be a regular file in the model's
    /// own folder; its bytes are read into the graph before ONNX Runtime sees it.
    /// </summary>
    public bool AllowExternalData { get; init; }

    /// <summary>Use seeded random weights instead of a checkpoint.</summary>
    public bool RandomInit { get; init; }

    /// <summary>
    /// Seed for <see cref="RandomInit"/>. Default: drawn from the seed of the <c>MLContext</c> whose
    /// <c>Transforms</c> made the featurizer (0 for <see cref="EfficientNetBackbone.Resolve"/>).
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>Global pooling of the last feature map. Default: average.</summary>
    public Pooling Pooling { get; init; } = Pooling.Average;

    /// <summary>Scale every feature vector to unit length. Default: off.</summary>
    public bool L2Normalize { get; init; }

    /// <summary>Side of the centre crop the network sees. Default: the weights' evaluation crop (224 for B0).</summary>
    public int? Resolution { get; init; }

    /// <summary>Folder that relative image paths are resolved against. Default: paths as given.</summary>
    public string? ImageFolder { get; init; }

    /// <summary>
    /// Images per ONNX Runtime run. Default: 4 (on a CPU, with one single-threaded run per core,
    /// batches of 1–4 cost the least per image and 16 the most; a GPU (<see cref="ExecutionProvider.Cuda"/>) wants larger ones).
    /// </summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>
    /// ONNX Runtime intra-op threads per run. With fewer threads than cores, the featurizer keeps
    /// cores ÷ <see cref="Threads"/> runs going at once on one session; 0 = one run at a time over
    /// every core. Default: 1, one single-threaded run per core, the fastest on a CPU (docs/BENCHMARKS.md).
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// For image-path columns, decode with the library's fast decoder (reduced-scale JPEG decoding,
    /// decoding overlapped with inference) rather than ML.NET's image transforms. It reads the same
    /// pixels as the saved model's <c>LoadImages</c> (EXIF orientation ignored, transparency over
    /// black), and features agree with the saved model's to a cosine similarity of at least 0.999 on
    /// every image of the odd-image corpus (tested); turn off for bit-for-bit agreement. Default: on.
    /// </summary>
    public bool FastDecode { get; init; } = true;

    /// <summary>Threads decoding images on the fast path; 0 = one per core. Default: 0.</summary>
    public int DecodeThreads { get; init; }

    /// <summary>
    /// What <c>Transform</c> does with a row whose image is not usable — missing, not an image, damaged
    /// (found in the header or only while decoding), or truncated when <see cref="AcceptTruncatedImages"/>
    /// is off: throw <see cref="Imaging.BadImageException"/> naming it (default), or give the row NaN features.
    /// </summary>
    public BadImageHandling OnBadImage { get; init; } = BadImageHandling.Throw;

    /// <summary>
    /// Featurize truncated images (a file that ends before the image does) from the rows that are there,
    /// the missing rows filled, instead of treating them as bad. Each one is passed to
    /// <see cref="OnImageIssue"/> with <see cref="Imaging.ImageIssue.Accepted"/> set. Default: off, as in PIL and TensorFlow.
    /// </summary>
    public bool AcceptTruncatedImages { get; init; }

    /// <summary>
    /// Called, on the thread that moves the cursor, for every image given NaN features under
    /// <see cref="BadImageHandling.MissingFeatures"/> and every truncated image accepted under
    /// <see cref="AcceptTruncatedImages"/>. Default: none.
    /// </summary>
    public Action<Imaging.ImageIssue>? OnImageIssue { get; init; }

    /// <summary>
    /// How images are resized for the network on the fast path and in <see cref="PooledPredictor"/>:
    /// <see cref="Preprocessing.Fast"/> (default), or <see cref="Preprocessing.TorchvisionExact"/>, torchvision's
    /// evaluation transform from a full-resolution decode, which the published ImageNet accuracies assume. The
    /// saved <c>.zip</c> keeps stock ML.NET's <c>ResizeImages</c> (which cannot filter as Pillow does): a stock
    /// ML.NET consumer of it gets stock ML.NET's resize, close to but not equal to torchvision's (see docs/BENCHMARKS.md);
    /// <see cref="PooledPredictor"/> reads the mode from the model.json that <c>effnet train</c> writes and applies it exactly.
    /// Needs an image-path column and <see cref="FastDecode"/> on.
    /// </summary>
    public Preprocessing Preprocessing { get; init; } = Preprocessing.Fast;

    /// <summary>CPU (default) or CUDA.</summary>
    public ExecutionProvider ExecutionProvider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>GPU ordinal when <see cref="ExecutionProvider"/> is CUDA.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>
    /// Float32 (default) or Int8: int8 convolutions from the fourth stage on, with activation ranges
    /// calibrated on <see cref="CalibrationImages"/>. The graph stays standard ONNX, so a saved model
    /// still loads with stock ML.NET; features are close to, not equal to, the Float32 ones.
    /// </summary>
    public Precision Precision { get; init; } = Precision.Float32;

    /// <summary>
    /// Images (paths, resolved against <see cref="ImageFolder"/>) the int8 activation ranges are measured
    /// on; required with <see cref="Precision.Int8"/>. Pick images like those you will featurize, for
    /// instance <see cref="CalibrationSample.Pick"/> of your training images (64 is plenty).
    /// </summary>
    public IReadOnlyList<string>? CalibrationImages { get; init; }

    /// <summary>
    /// With <see cref="Precision.Int8"/>: how close to float32 the int8 features must stay on the calibration images
    /// held out from calibration (a seeded quarter), and how many blocks may be kept in float to get there; missed
    /// within that budget, the backbone runs in float32 with a warning. <see cref="EfficientNetBackbone.Int8Fidelity"/>
    /// says what was measured. Default (null): median cosine ≥ 0.99, 5th percentile ≥ 0.95, at most 3 blocks in float.
    /// </summary>
    public Int8Target? Int8Target { get; init; }

    /// <summary>
    /// Stops the pretrained weights' download (the bytes received are kept and resumed next time) and
    /// featurization (at the next row) with an <see cref="OperationCanceledException"/>, as
    /// <c>mlContext.CancelExecution()</c> does. ML.NET's <c>Fit</c> and <c>Transform</c> take no token, so it
    /// travels here. Default: none.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }
}
