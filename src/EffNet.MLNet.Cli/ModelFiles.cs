using Microsoft.ML;

namespace EffNet.MLNet.Cli;

internal static class ModelFiles
{
    /// <summary>model.zip → model.json.</summary>
    public static string ReportPath(string modelPath) => Path.ChangeExtension(modelPath, ".json");

    /// <summary>Save through a temporary file so a failure never leaves a half-written model where a good one was.</summary>
    public static void SaveModel(MLContext ml, ITransformer model, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        ml.Model.Save(model, Training.ImageClassifierTrainer.InputSchema(ml), temp);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Load a model with a clear error for missing or corrupt files.</summary>
    public static ITransformer Load(MLContext ml, string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"The model '{path}' does not exist.");
        try
        {
            return ml.Model.Load(path, out _);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or FormatException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' is not a readable ML.NET model (corrupt or truncated?): {ex.Message}", ex);
        }
    }
}
