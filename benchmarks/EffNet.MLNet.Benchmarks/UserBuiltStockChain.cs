using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Onnx;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// The stock ML.NET chain as a user writes it from ML.NET's documentation: LoadImages →
/// ResizeImages → ExtractPixels → ApplyOnnxModel on an exported ONNX file (batch 1, ONNX Runtime's
/// default threads), fitted on an IDataView of paths and read through CreateEnumerable, so ML.NET
/// spreads the rows over its parallel cursors as it does for any user.
/// </summary>
internal sealed class UserBuiltStockChain : IDisposable
{
    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class FeaturesRow
    {
        [ColumnName("features"), VectorType] public float[] Features { get; set; } = [];
    }

    public sealed class PixelsRow
    {
        [ColumnName("pixels"), VectorType] public float[] Pixels { get; set; } = [];
    }

    private readonly MLContext _ml;
    private readonly string _modelFile;
    private readonly ITransformer _full;
    private readonly ITransformer _decode;

    public UserBuiltStockChain(MLContext ml, EfficientNetBackbone backbone, int inputSize)
    {
        _ml = ml;
        _modelFile = Path.Combine(Path.GetTempPath(), $"effnet-bench-stock-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(_modelFile, Google.Protobuf.MessageExtensions.ToByteArray(BatchOfOne(backbone.Graph)));
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<PathRow>());
        var decode = ml.Transforms.LoadImages("image", "", nameof(PathRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("resized", inputSize, inputSize, "image", ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center))
            .Append(ml.Transforms.ExtractPixels("pixels", "resized"));
        _decode = decode.Fit(empty);
        _full = decode.Append(ml.Transforms.ApplyOnnxModel("features", "pixels", _modelFile)).Fit(empty);
    }

    /// <summary>Features of every image, read as a user reads them.</summary>
    public int Featurize(IDataView paths) => _ml.Data.CreateEnumerable<FeaturesRow>(_full.Transform(paths), reuseRowObject: true).Count();

    /// <summary>Only the image transforms: the stock chain's decoding cost.</summary>
    public int Decode(IDataView paths) => _ml.Data.CreateEnumerable<PixelsRow>(_decode.Transform(paths), reuseRowObject: true).Count();

    public IDataView Paths(IEnumerable<string> paths) => _ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }).ToList());

    // A user exports the backbone for one image at a time, as ApplyOnnxModel feeds it.
    private static ModelProto BatchOfOne(ModelProto model)
    {
        var copy = model.Clone();
        foreach (var value in copy.Graph.Input.Concat(copy.Graph.Output))
        {
            var dim = value.Type.TensorType.Shape.Dim[0];
            dim.ClearDimParam();
            dim.DimValue = 1;
        }
        return copy;
    }

    public void Dispose()
    {
        (_full as IDisposable)?.Dispose();
        File.Delete(_modelFile);
    }
}
