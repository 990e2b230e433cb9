using Microsoft.ML;

namespace EffNet.MLNet;

/// <summary>Loads a saved ML.NET model with an error that names the file when it cannot be read.</summary>
internal static class SavedModel
{
    /// <summary>Load the model at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable ML.NET model.</exception>
    public static ITransformer Load(MLContext ml, string path)
    {
        ArgumentNullException.ThrowIfNull(ml);
        if (!File.Exists(path)) throw new FileNotFoundException($"The model '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return Load(ml, stream, path);
    }

    /// <summary>Load a model from <paramref name="stream"/>; <paramref name="path"/> names it in errors.</summary>
    internal static ITransformer Load(MLContext ml, Stream stream, string path) => LoadWithSchema(ml, stream, path).Model;

    /// <summary>Load a model and the input schema it was saved with.</summary>
    internal static (ITransformer Model, DataViewSchema? Input) LoadWithSchema(MLContext ml, Stream stream, string path)
    {
        ModelArchive.Check(stream, path);
        try
        {
            var model = ml.Model.Load(stream, out var input);
            return (model, input);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or FormatException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' is not a readable ML.NET model (corrupt or truncated?): {ex.Message}", ex);
        }
    }
}
