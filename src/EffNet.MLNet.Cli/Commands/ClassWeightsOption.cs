using EffNet.MLNet.Training;

namespace EffNet.MLNet.Cli.Commands;

/// <summary><c>--class-weights auto|none|FILE</c> of train, retrain and sweep.</summary>
internal static class ClassWeightsOption
{
    public const string Description =
        "auto, none or a JSON file of label to weight ({\"cat\": 1, \"dog\": 4.5}). auto weights each class by the inverse of its image count " +
        "(mean weight 1) when the largest class has at least 3 times the images of the smallest.";

    /// <summary>What is wrong with <paramref name="value"/>, or null.</summary>
    public static string? Problem(string value) =>
        IsWord(value) || File.Exists(value) ? null
            : $"--class-weights must be auto, none or a JSON file of label to weight; '{InertText.Name(value)}' is neither a word it knows nor a file.";

    /// <summary>The rule, the explicit weights (from the file) and what model.json records.</summary>
    /// <exception cref="InvalidDataException">The file is not a JSON object of label to weight.</exception>
    public static (ClassWeighting Mode, IReadOnlyDictionary<string, double>? Weights, string Recorded) Parse(string value)
    {
        var word = value.Trim().ToLowerInvariant();
        if (word == "auto") return (ClassWeighting.Auto, null, "auto");
        if (word == "none") return (ClassWeighting.None, null, "none");
        var path = Path.GetFullPath(value);
        if (!File.Exists(path)) throw new ArgumentException($"The class weights file '{path}' does not exist; pass auto, none or an existing file to --class-weights.");
        return (ClassWeighting.InverseFrequency, ClassWeightRule.ReadFile(path), path);
    }

    private static bool IsWord(string value) => value.Trim().ToLowerInvariant() is "auto" or "none";
}
