using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>The <c>--weights-family</c> values and what they mean.</summary>
internal static class WeightsFamilyOption
{
    public const string Description =
        "Where --weights comes from: torchvision, timm (efficientnet_bN) or timm-tf (tf_efficientnet_bN: TensorFlow SAME padding, batch-norm eps 1e-3). " +
        "Default auto: read from the tensor names and timm's file names.";

    private static readonly Dictionary<string, CheckpointFamily> Values = new(StringComparer.OrdinalIgnoreCase)
    {
        ["auto"] = CheckpointFamily.Auto,
        ["torchvision"] = CheckpointFamily.Torchvision,
        ["timm"] = CheckpointFamily.Timm,
        ["timm-tf"] = CheckpointFamily.TimmTensorFlow,
    };

    public static string? Problem(string value) =>
        Values.ContainsKey(value) ? null : $"--weights-family must be one of {string.Join(", ", Values.Keys)}, not '{value}'.";

    public static CheckpointFamily Parse(string value) => Values[value];
}
