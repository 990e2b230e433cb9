namespace EffNet.MLNet.Cli.Commands;

/// <summary>The <c>--preprocess</c> values and what they mean.</summary>
internal static class PreprocessOption
{
    public const string Description =
        "fast (default): large JPEGs decoded at reduced scale, cubic resize. torchvision: torchvision's evaluation transform exactly " +
        "(full-resolution decode, Pillow's antialiased bicubic, its centre crop), which the published ImageNet accuracies assume; " +
        "slower on large photos. Recorded in model.json and applied by effnet predict; the saved .zip's own chain resizes with stock ML.NET.";

    private static readonly OptionWords<Preprocessing> Words = new("--preprocess", ("fast", Preprocessing.Fast), ("torchvision", Preprocessing.TorchvisionExact));

    public static string? Problem(string value) => Words.Problem(value);

    public static Preprocessing Parse(string value) => Words.Parse(value);
}
