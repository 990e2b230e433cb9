using Microsoft.ML;

namespace EffNet.MLNet.Cli;

internal static class ModelFiles
{
    /// <summary>model.zip → model.json.</summary>
    public static string ReportPath(string modelPath) => Path.ChangeExtension(modelPath, ".json");

    /// <summary>model.zip → model.confusion.png.</summary>
    public static string ConfusionPath(string modelPath) => Path.ChangeExtension(modelPath, ".confusion.png");

    /// <summary>Save through a temporary file so a failure never leaves a half-written model where a good one was.</summary>
    public static void SaveModel(MLContext ml, ITransformer model, string path) =>
        AtomicFile.Write(path, stream => ml.Model.Save(model, Training.ImageClassifierTrainer.InputSchema(ml), stream));

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

    /// <summary>Every file a training run writes beside <paramref name="model"/>.</summary>
    public static string[] Outputs(string model) => [model, ReportPath(model), ConfusionPath(model), Commands.BadImages.ReportPath(model)];

    /// <summary>
    /// Refuse to replace <paramref name="model"/>, its model.json, confusion picture or bad-image report
    /// unless the user said --force: checked before any work, so a long run never ends in a refusal.
    /// </summary>
    public static void RefuseOverwrite(string model, bool force) => RefuseOverwrite(Outputs(model), force);

    /// <summary>Refuse to replace any of <paramref name="outputs"/> unless the user said --force.</summary>
    public static void RefuseOverwrite(IEnumerable<string> outputs, bool force)
    {
        if (force) return;
        if (outputs.FirstOrDefault(File.Exists) is { } existing)
            throw new ArgumentException($"'{existing}' already exists; pass --force to overwrite it, or choose another --out.");
    }
}
