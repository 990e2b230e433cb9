using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet;

/// <summary>
/// The featurizer written with stock ML.NET transforms only — LoadImages → ResizeImages →
/// ExtractPixels → ApplyOnnxModel (graph bytes embedded) → DropColumns — the way ML.NET's
/// DnnImageFeaturizer is built. This is what a saved model contains, so it loads anywhere
/// ML.NET, ImageAnalytics and OnnxTransformer are referenced.
/// </summary>
internal sealed class StockFeaturizerChain
{
    private readonly Lazy<IEstimator<ITransformer>> _full;

    public StockFeaturizerChain(TransformsCatalog transforms, EfficientNetBackbone backbone, string outputColumn, string inputColumn, DataViewType inputType, EfficientNetFeaturizerOptions options)
    {
        ImageColumn = outputColumn + "__effnet_image";
        ResizedColumn = outputColumn + "__effnet_resized";
        PixelsColumn = outputColumn + "__effnet_pixels";
        var size = backbone.ResizeSize;

        IEstimator<ITransformer> start = inputType is ImageDataViewType
            ? transforms.CopyColumns(ImageColumn, inputColumn)
            : transforms.LoadImages(ImageColumn, options.ImageFolder ?? "", inputColumn);
        Preprocess = start
            .Append(transforms.ResizeImages(ResizedColumn, size, size, ImageColumn, ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center))
            .Append(transforms.ExtractPixels(PixelsColumn, ResizedColumn));
        // ApplyOnnxModel opens an ONNX Runtime session as soon as it is made: only when the whole chain is wanted.
        _full = new Lazy<IEstimator<ITransformer>>(() => BuildFull(transforms, backbone, outputColumn, options));
        Built++;
    }

    /// <summary>Chains whose ONNX part was built on this thread (a test seam: schema propagation must build none).</summary>
    [ThreadStatic] internal static int FullChainsBuilt;

    /// <summary>Chains made on this thread.</summary>
    [ThreadStatic] internal static int Built;

    private IEstimator<ITransformer> BuildFull(TransformsCatalog transforms, EfficientNetBackbone backbone, string outputColumn, EfficientNetFeaturizerOptions options)
    {
        FullChainsBuilt++;
        var size = backbone.ResizeSize;
        var graph = OnnxRenaming.SingleImage(OnnxRenaming.WithIO(backbone.Graph, PixelsColumn, outputColumn), size, backbone.FeatureDimension);
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(graph);
        return Preprocess
            .Append(transforms.ApplyOnnxModel(outputColumn, PixelsColumn, new MemoryStream(bytes),
                new Dictionary<string, int[]> { [PixelsColumn] = [1, 3, size, size] },
                gpuDeviceId: options.ExecutionProvider == ExecutionProvider.Cuda ? options.CudaDeviceId : null, fallbackToCpu: true))
            .Append(transforms.DropColumns(ImageColumn, ResizedColumn, PixelsColumn));
    }

    public string ImageColumn { get; }
    public string ResizedColumn { get; }
    public string PixelsColumn { get; }

    /// <summary>Up to the pixel vector ([3, S, S] planar RGB, 0…255) the graph takes.</summary>
    public IEstimator<ITransformer> Preprocess { get; }

    /// <summary>The whole featurizer (opens an ONNX Runtime session when first read).</summary>
    public IEstimator<ITransformer> Full => _full.Value;
}
