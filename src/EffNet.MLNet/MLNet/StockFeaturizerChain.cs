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
    public StockFeaturizerChain(MLContext ml, EfficientNetBackbone backbone, string outputColumn, string inputColumn, DataViewType inputType, EfficientNetFeaturizerOptions options)
    {
        ImageColumn = outputColumn + "__effnet_image";
        ResizedColumn = outputColumn + "__effnet_resized";
        PixelsColumn = outputColumn + "__effnet_pixels";
        var size = backbone.ResizeSize;

        IEstimator<ITransformer> start = inputType is ImageDataViewType
            ? ml.Transforms.CopyColumns(ImageColumn, inputColumn)
            : ml.Transforms.LoadImages(ImageColumn, options.ImageFolder ?? "", inputColumn);
        Preprocess = start
            .Append(ml.Transforms.ResizeImages(ResizedColumn, size, size, ImageColumn, ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center))
            .Append(ml.Transforms.ExtractPixels(PixelsColumn, ResizedColumn));

        var graph = OnnxRenaming.SingleImage(OnnxRenaming.WithIO(backbone.Graph, PixelsColumn, outputColumn), size, backbone.FeatureDimension);
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(graph);
        Full = Preprocess
            .Append(ml.Transforms.ApplyOnnxModel(outputColumn, PixelsColumn, new MemoryStream(bytes),
                new Dictionary<string, int[]> { [PixelsColumn] = [1, 3, size, size] },
                gpuDeviceId: options.ExecutionProvider == ExecutionProvider.Cuda ? options.CudaDeviceId : null, fallbackToCpu: true))
            .Append(ml.Transforms.DropColumns(ImageColumn, ResizedColumn, PixelsColumn));
    }

    public string ImageColumn { get; }
    public string ResizedColumn { get; }
    public string PixelsColumn { get; }

    /// <summary>Up to the pixel vector ([3, S, S] planar RGB, 0…255) the graph takes.</summary>
    public IEstimator<ITransformer> Preprocess { get; }

    /// <summary>The whole featurizer.</summary>
    public IEstimator<ITransformer> Full { get; }
}
