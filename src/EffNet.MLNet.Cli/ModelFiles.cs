using Microsoft.ML;

namespace EffNet.MLNet.Cli;

internal static class ModelFiles
{
    /// <summary>model.zip → model.json.</summary>
    public static string ReportPath(string modelPath) => Path.ChangeExtension(modelPath, ".json");

    /// <summary>model.zip → model.confusion.png.</summary>
    public static string ConfusionPath(string modelPath) => Path.ChangeExtension(modelPath, ".confusion.png");

    /// <summary>Save through a temporary file so a failure never leaves a half-written model where a good one was.</summary>
    public static void SaveModel(MLContext ml, ITransformer model, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        ml.Model.Save(model, Training.ImageClassifierTrainer.InputSchema(ml), temp);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The model.json beside a model, with a clear error when it is missing.</summary>
    public static Training.ModelReport LoadReport(string modelPath)
    {
        var path = ReportPath(modelPath);
        if (!File.Exists(path))
            throw new ArgumentException($"'{path}' is missing; it is written beside the model by effnet train and holds the labels and training settings.");
        try { return Training.ModelReport.Load(path); }
        catch (System.Text.Json.JsonException ex) { throw new InvalidDataException($"'{path}' is not valid JSON: {ex.Message}", ex); }
    }

    /// <summary>A model named on the command line must exist: a missing one is a bad argument (exit 2), not missing weights.</summary>
    public static string Existing(string path) =>
        File.Exists(path) ? path : throw new ArgumentException($"The model '{path}' does not exist.");

    /// <summary>Refuse to replace <paramref name="model"/> or its model.json unless the user said --force.</summary>
    public static void RefuseOverwrite(string model, bool force)
    {
        foreach (var existing in new[] { model, ReportPath(model) }.Where(File.Exists))
            if (!force) throw new ArgumentException($"'{existing}' already exists; pass --force to overwrite it, or choose another --out.");
    }
}
