namespace EffNet.MLNet.Cli.Commands;

/// <summary>The <c>--preprocess</c> values and what they mean.</summary>
internal static class PreprocessOption
{
    public const string Description =
        "fast (default): large JPEGs decoded at reduced scale, cubic resize. torchvision: torchvision's evaluation transform exactly " +
        "(full-resolution decode, Pillow's antialiased bicubic, its centre crop), which the published ImageNet accuracies assume; " +
        "slower on large photos. Recorded in model.json and applied by effnet predict; the saved .zip's own chain resizes with stock ML.NET.";

    private static readonly Dictionary<string, Preprocessing> Values = new(StringComparer.OrdinalIgnoreCase)
    {
        ["fast"] = Preprocessing.Fast,
        ["torchvision"] = Preprocessing.TorchvisionExact,
    };

    public static string? Problem(string value) =>
        Values.ContainsKey(value) ? null : $"--preprocess must be one of {string.Join(", ", Values.Keys)}, not '{value}'.";

    public static Preprocessing Parse(string value) => Values[value];

    /// <summary>The option value naming <paramref name="mode"/> (what model.json records).</summary>
    public static string Name(Preprocessing mode) => Values.First(v => v.Value == mode).Key;
}
