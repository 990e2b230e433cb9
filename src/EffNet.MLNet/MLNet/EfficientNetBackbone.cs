using System.Globalization;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;
using Google.Protobuf;
using Onnx;

namespace EffNet.MLNet;

/// <summary>
/// A resolved backbone: the feature-extractor graph plus how images must be prepared for it
/// (resize the shorter side to <see cref="ResizeSize"/> and centre-crop that square; the graph
/// crops the centre <see cref="Resolution"/> itself). <see cref="Identity"/> names everything
/// that changes the features, for caches and model metadata.
/// </summary>
public sealed class EfficientNetBackbone
{
    private EfficientNetBackbone(ModelProto graph, string variant, int resizeSize, int resolution, int featureDimension, string weightsSha256, string pooling, bool l2)
    {
        Graph = graph;
        Variant = variant;
        ResizeSize = resizeSize;
        Resolution = resolution;
        FeatureDimension = featureDimension;
        WeightsSha256 = weightsSha256;
        Pooling = pooling;
        L2Normalize = l2;
    }

    /// <summary>The graph: input <c>pixels</c> [N, 3, ResizeSize, ResizeSize] RGB 0…255, output <c>features</c> [N, D].</summary>
    public ModelProto Graph { get; }

    /// <summary>Variant name.</summary>
    public string Variant { get; }

    /// <summary>Images are resized (shorter side) and centre-cropped to this square before the graph.</summary>
    public int ResizeSize { get; }

    /// <summary>Side of the centre crop inside the graph.</summary>
    public int Resolution { get; }

    /// <summary>Feature vector length.</summary>
    public int FeatureDimension { get; }

    /// <summary>SHA-256 of the weights (checkpoint file, ONNX file, or the random seed's name).</summary>
    public string WeightsSha256 { get; }

    /// <summary>"avg" or "max".</summary>
    public string Pooling { get; }

    /// <summary>What was detected or assumed about a bring-your-own ONNX model; empty otherwise.</summary>
    public IReadOnlyList<string> Findings { get; private init; } = [];

    /// <summary>Whether features are unit-length.</summary>
    public bool L2Normalize { get; }

    /// <summary>The library the weights come from (torchvision for pretrained and random weights).</summary>
    public CheckpointFamily WeightsFamily { get; private init; } = CheckpointFamily.Torchvision;

    /// <summary>How images become the graph's input (see <see cref="EfficientNetFeaturizerOptions.Preprocessing"/>).</summary>
    public Preprocessing Preprocessing { get; private init; } = Preprocessing.Fast;

    /// <summary>The weights' evaluation interpolation ("bicubic" or "bilinear"), which <see cref="Preprocessing.TorchvisionExact"/> applies.</summary>
    public string Interpolation { get; private init; } = "bicubic";

    /// <summary>Everything that determines the features, as one string.</summary>
    public string Identity => string.Create(CultureInfo.InvariantCulture,
        $"efficientnet-{Variant};weights={WeightsSha256}{FamilyPart};resize={ResizeSize};crop={Resolution};pool={Pooling};l2={L2Normalize}{PreprocessingPart}{PrecisionPart}");

    // The fast preprocessing keeps the identities (and feature caches) made before the option existed.
    private string PreprocessingPart => Preprocessing == Preprocessing.Fast ? ""
        : $";preprocess=torchvision-{Interpolation}-{Imaging.TorchvisionImageDecoder.Version}";

    /// <summary>How the fast path and the serving predictor prepare an image for this backbone.</summary>
    internal Imaging.ImagePreparation Preparation => new(Preprocessing, ResizeSize, Resolution, Imaging.ResampleFilter.Named(Interpolation));

    /// <summary>The arithmetic the graph runs in.</summary>
    public Precision Precision { get; private init; } = Precision.Float32;

    /// <summary>For <see cref="Precision.Int8"/>: the calibration method, quantizer version, image count and a hash of the images' contents; otherwise null.</summary>
    public string? Calibration { get; private init; }

    /// <summary>For <see cref="Precision.Int8"/>: the images it was calibrated on; otherwise empty.</summary>
    public IReadOnlyList<string> CalibrationImages { get; private init; } = [];

    /// <summary>
    /// For <see cref="Precision.Int8"/> requested: int8 against float32 on held-out calibration images, the blocks kept
    /// in float, or the fall-back to float32 (then <see cref="Precision"/> is Float32); otherwise null.
    /// </summary>
    public Int8Fidelity? Int8Fidelity { get; private init; }

    // Float32 keeps the identity it always had, so existing feature caches stay valid.
    private string PrecisionPart => Precision == Precision.Float32 ? "" : $";precision=int8;calibration={Calibration}";

    // One file read as timm and as timm-tf gives different features; torchvision's keeps the old identity.
    private string FamilyPart => WeightsFamily == CheckpointFamily.Torchvision ? "" : ";family=" + WeightsFamily.DisplayName();

    /// <summary>Whether the weights are seeded random ones rather than a file's.</summary>
    internal bool HasRandomWeights => WeightsSha256.StartsWith(RandomWeightsPrefix, StringComparison.Ordinal);

    private const string RandomWeightsPrefix = "random-seed-";

    /// <summary>The graph serialized.</summary>
    public byte[] ToBytes() => Graph.ToByteArray();

    /// <summary>Resolve options into a backbone; reads checkpoints and, for pretrained weights, the catalog.</summary>
    public static EfficientNetBackbone Resolve(EfficientNetFeaturizerOptions options, Func<EfficientNetVariant, string>? pretrainedWeights = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must lie in [1, 4096].");
        var variant = EfficientNetVariant.Parse(options.Variant);
        var eval = Catalog.PretrainedCatalog.EvalTransformFor(variant);
        if (options.OnnxModelPath is { } onnx)
        {
            if (options.Precision != Precision.Float32)
                throw new ArgumentException($"Precision.Int8 quantizes the graphs this library builds, not a bring-your-own ONNX model ('{onnx}'); use WeightsPath or the pretrained weights, or Float32.", nameof(options));
            // Keep the variant's resize/crop ratio around the model's own input size.
            var adapted = ForeignModelAdapter.Adapt(onnx, side => (int)Math.Round(side * (double)eval.ResizeSize / eval.CropSize), options.AllowExternalData);
            var size = (int)adapted.Graph.Graph.Input[0].Type.TensorType.Shape.Dim[2].DimValue;
            return new EfficientNetBackbone(adapted.Graph, "onnx:" + Path.GetFileName(onnx), size, adapted.ModelInputSize, adapted.FeatureDimension,
                FileHash.Sha256(onnx), "model", false) { Findings = adapted.Findings, Preprocessing = options.Preprocessing, Interpolation = eval.Interpolation };
        }
        var architecture = EfficientNetArchitecture.For(variant);
        NetworkWeights weights;
        string sha;
        if (options.WeightsPath is { } path)
        {
            weights = CheckpointLoader.Load(architecture, path, options.WeightsFamily);
            sha = FileHash.Sha256(path);
        }
        else if (options.RandomInit)
        {
            var seed = options.Seed ?? 0;
            weights = RandomWeights.Create(architecture, seed);
            sha = RandomWeightsPrefix + seed.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            var resolver = pretrainedWeights ?? (v => Catalog.PretrainedCatalog.Default.EnsureWeights(v.Name));
            var file = resolver(variant);
            weights = CheckpointLoader.Load(architecture, file);
            sha = FileHash.Sha256(file);
        }

        var resolution = options.Resolution ?? eval.CropSize;
        // Keep torchvision's resize/crop ratio when the user picks another resolution.
        var resize = options.Resolution is null ? eval.ResizeSize : (int)Math.Round(resolution * (double)eval.ResizeSize / eval.CropSize);
        var graph = EfficientNetOnnxExporter.Build(architecture, weights, new FeatureExtractorOptions
        {
            Pooling = options.Pooling,
            L2Normalize = options.L2Normalize,
            Resolution = resolution,
            InputSize = resize,
            Mean = eval.Mean,
            Std = eval.Std,
        });
        Int8Calibration.Result? int8 = null;
        if (options.Precision == Precision.Int8)
        {
            int8 = Int8Calibration.Quantize(graph,
                new Imaging.ImagePreparation(options.Preprocessing, resize, resolution, Imaging.ResampleFilter.Named(eval.Interpolation)), options);
            graph = int8.Graph;
        }
        // After a fall-back the graph is the float one, and so are the precision and the identity (its features are fp32's).
        var calibration = int8?.Calibration;
        return new EfficientNetBackbone(graph, variant.Name, resize, resolution, architecture.FeatureDimension, sha,
            options.Pooling == Onnx.Pooling.Max ? "max" : "avg", options.L2Normalize)
        { WeightsFamily = weights.Family, Preprocessing = options.Preprocessing, Interpolation = eval.Interpolation,
          Precision = calibration is null ? Precision.Float32 : Precision.Int8, Calibration = calibration,
          CalibrationImages = calibration is null ? [] : options.CalibrationImages!, Int8Fidelity = int8?.Fidelity };
    }
}
