using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Onnx.Quantization;
using Onnx;

namespace EffNet.MLNet;

/// <summary>
/// Quantizes a resolved float graph to int8, calibrated on the user's images decoded as the featurizer decodes them
/// (in its preprocessing mode), and checks the result against float32 on images held out from that calibration.
/// </summary>
internal static class Int8Calibration
{
    /// <summary>The seed of the held-out split, over the calibration paths in ordinal order.</summary>
    public const int HeldOutSeed = 0;

    /// <summary>
    /// The graph to run (int8, or the float one after a fall-back), what identifies its calibration (method, quantizer
    /// version, image count, hash of the images' contents, blocks kept in float; null after a fall-back) and what the check measured.
    /// </summary>
    public sealed record Result(ModelProto Graph, string? Calibration, Int8Fidelity Fidelity);

    public static Result Quantize(ModelProto graph, ImagePreparation preparation, EfficientNetFeaturizerOptions options)
    {
        var images = options.CalibrationImages;
        if (images is null || images.Count == 0)
            throw new ArgumentException(
                "Precision.Int8 needs calibration images: set EfficientNetFeaturizerOptions.CalibrationImages, for instance to " +
                "CalibrationSample.Pick(your training image paths).", nameof(options));
        var target = options.Int8Target ?? new Int8Target();
        target.Validate();
        var paths = images.Select(p => options.ImageFolder is { } folder ? Path.Combine(folder, p) : p).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var pixels = paths.ToDictionary(p => p, p =>
        {
            var image = new float[3 * preparation.Size * preparation.Size];
            preparation.Decode(p, image, acceptTruncated: false); // as the featurizer will; throws BadImageException naming the file
            return image;
        }, StringComparer.Ordinal);
        if (paths.Count < 2)
            throw new ArgumentException(
                $"Precision.Int8 needs at least 2 distinct calibration images, not {paths.Count}: a quarter of them (at least one) is held out to check int8 against float32.",
                nameof(options));

        var (calibrating, heldOut) = Split(paths);
        using var contents = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in calibrating) contents.AppendData(Encoding.UTF8.GetBytes(FileHash.Sha256(path)));
        const CalibrationMethod method = CalibrationMethod.LeastSquares;
        var ranges = Int8Quantizer.Calibrate(graph, calibrating.Select(p => pixels[p]).ToList(), method);
        var hash = Convert.ToHexString(contents.GetHashAndReset()).ToLowerInvariant()[..16];
        var name = string.Create(CultureInfo.InvariantCulture, $"{method.ToString().ToLowerInvariant()}-v{Int8Quantizer.Version}-{calibrating.Count}-images-{hash}");

        var outcome = Int8FidelityCheck.Run(graph, ranges, heldOut.Select(p => pixels[p]).ToList(), target,
            $"{method.ToString().ToLowerInvariant()} over {calibrating.Count} images", options.CancellationToken);
        var fellBack = outcome.Graph is null;
        var fidelity = new Int8Fidelity
        {
            TargetMedianCosine = target.MedianCosine,
            TargetFifthPercentileCosine = target.FifthPercentileCosine,
            MaxFloatLayers = target.MaxFloatLayers,
            Method = Int8FidelityCheck.Method,
            CalibratedOn = calibrating.Count,
            HeldOutImages = heldOut,
            AllInt8MedianCosine = outcome.AllInt8.Median,
            AllInt8FifthPercentileCosine = outcome.AllInt8.FifthPercentile,
            MedianCosine = outcome.Chosen.Median,
            FifthPercentileCosine = outcome.Chosen.FifthPercentile,
            WorstCosine = outcome.Chosen.Worst,
            FloatLayers = outcome.FloatBlocks,
            FellBackToFloat32 = fellBack,
            Warning = fellBack ? Warning(target, outcome, heldOut.Count) : null,
        };
        if (fellBack) return new Result(graph, null, fidelity);
        return new Result(outcome.Graph!, outcome.FloatBlocks.Count == 0 ? name : name + "-float-" + string.Join("+", outcome.FloatBlocks), fidelity);
    }

    /// <summary>A seeded quarter of the images (at least one) held out for scoring; the rest calibrate.</summary>
    internal static (List<string> Calibrating, List<string> HeldOut) Split(IReadOnlyList<string> sortedPaths)
    {
        var shuffled = sortedPaths.ToArray();
        new Random(HeldOutSeed).Shuffle(shuffled);
        var heldOut = Math.Max(1, shuffled.Length / 4);
        return (shuffled.Skip(heldOut).Order(StringComparer.Ordinal).ToList(), shuffled.Take(heldOut).Order(StringComparer.Ordinal).ToList());
    }

    private static string Warning(Int8Target target, Int8FidelityCheck.Outcome outcome, int heldOut)
    {
        var kept = Math.Min(target.MaxFloatLayers, outcome.Candidates);
        return string.Create(CultureInfo.InvariantCulture,
            $"int8 missed its target on {heldOut} held-out images (median cosine {outcome.AllInt8.Median:0.0000}, 5th percentile {outcome.AllInt8.FifthPercentile:0.0000} all int8; " +
            $"{outcome.Chosen.Median:0.0000} and {outcome.Chosen.FifthPercentile:0.0000}, worst {outcome.Chosen.Worst:0.0000}, with {kept} of {outcome.Candidates} blocks in float; " +
            $"target median >= {target.MedianCosine:0.###}, 5th percentile >= {target.FifthPercentileCosine:0.###}), so the backbone runs in fp32.");
    }
}
