using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Onnx.Quantization;
using Onnx;

namespace EffNet.MLNet;

/// <summary>Quantizes a resolved float graph to int8, calibrated on the user's images decoded as the featurizer decodes them (in its preprocessing mode).</summary>
internal static class Int8Calibration
{
    /// <summary>The int8 graph and what identifies its calibration (method, quantizer version, hash of the images' contents).</summary>
    public static (ModelProto Graph, string Calibration) Quantize(ModelProto graph, ImagePreparation preparation, EfficientNetFeaturizerOptions options)
    {
        var images = options.CalibrationImages;
        if (images is null || images.Count == 0)
            throw new ArgumentException(
                "Precision.Int8 needs calibration images: set EfficientNetFeaturizerOptions.CalibrationImages, for instance to " +
                "CalibrationSample.Pick(your training image paths).", nameof(options));
        var paths = images.Select(p => options.ImageFolder is { } folder ? Path.Combine(folder, p) : p).Order(StringComparer.Ordinal).ToList();
        var pixels = new List<float[]>(paths.Count);
        using var contents = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in paths)
        {
            var image = new float[3 * preparation.Size * preparation.Size];
            preparation.Decode(path, image, acceptTruncated: false); // as the featurizer will; throws BadImageException naming the file
            pixels.Add(image);
            contents.AppendData(Encoding.UTF8.GetBytes(FileHash.Sha256(path)));
        }
        const CalibrationMethod method = CalibrationMethod.LeastSquares;
        var quantized = Int8Quantizer.Quantize(graph, pixels, method);
        var hash = Convert.ToHexString(contents.GetHashAndReset()).ToLowerInvariant()[..16];
        return (quantized, string.Create(CultureInfo.InvariantCulture,
            $"{method.ToString().ToLowerInvariant()}-v{Int8Quantizer.Version}-{paths.Count}-images-{hash}"));
    }
}
