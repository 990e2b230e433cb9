using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>The <c>--weights-family</c> values and what they mean.</summary>
internal static class WeightsFamilyOption
{
    public const string Description =
        "Where --weights comes from: torchvision, timm (efficientnet_bN) or timm-tf (tf_efficientnet_bN: TensorFlow SAME padding, batch-norm eps 1e-3). " +
        "Default auto: read from the tensor names and timm's file names.";

    private static readonly OptionWords<CheckpointFamily> Words = new("--weights-family",
        ("auto", CheckpointFamily.Auto), ("torchvision", CheckpointFamily.Torchvision), ("timm", CheckpointFamily.Timm), ("timm-tf", CheckpointFamily.TimmTensorFlow));

    public static string? Problem(string value) => Words.Problem(value);

    public static CheckpointFamily Parse(string value) => Words.Parse(value);
}
