using System.Text.Json;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet;

/// <summary>
/// The preprocessing a classifier was trained with, as <c>effnet train</c> records it in the
/// <c>model.json</c> beside the <c>.zip</c> (<c>backbone.preprocessing</c>, <c>resizeSize</c>,
/// <c>cropSize</c>, <c>interpolation</c>). Read here without the training layer's report types, which
/// sit above this one.
/// </summary>
internal static class RecordedPreprocessing
{
    /// <summary>The model.json of <paramref name="modelPath"/>.</summary>
    public static string ReportPath(string modelPath) => Path.ChangeExtension(modelPath, ".json");

    /// <summary>
    /// torchvision's transform when the model's report records it; null when there is no report or it
    /// records the fast preprocessing (the saved chain then does what training did).
    /// </summary>
    /// <exception cref="InvalidDataException">The report exists but cannot be read, or records torchvision preprocessing without its sizes.</exception>
    public static ImagePreparation? Read(string modelPath)
    {
        var path = ReportPath(modelPath);
        if (!File.Exists(path)) return null;
        try
        {
            Training.ModelReportCheck.CheckFile(path);
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            if (!json.RootElement.TryGetProperty("backbone", out var backbone)
                || !backbone.TryGetProperty("preprocessing", out var mode) || mode.GetString() != "torchvision") return null;
            if (!backbone.TryGetProperty("resizeSize", out var size) || !backbone.TryGetProperty("cropSize", out var crop))
                throw new InvalidDataException($"'{path}' records torchvision preprocessing but not backbone.resizeSize and backbone.cropSize.");
            var interpolation = backbone.TryGetProperty("interpolation", out var i) ? i.GetString() ?? "bicubic" : "bicubic";
            return new ImagePreparation(Preprocessing.TorchvisionExact,
                Training.ModelReportCheck.ImageSide(path, "backbone.resizeSize", size.GetInt32()),
                Training.ModelReportCheck.ImageSide(path, "backbone.cropSize", crop.GetInt32()), ResampleFilter.Named(interpolation));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException or IOException)
        {
            throw new InvalidDataException($"'{path}' (the model's report) cannot be read for its preprocessing: {ex.Message}", ex);
        }
    }
}
