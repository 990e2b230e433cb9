using Onnx;

namespace EffNet.MLNet.FineTuning.Graph;

/// <summary>
/// One emitted training step: inputs <c>pixels</c> [N, 3, R, R] (RGB 0…255), <c>labels</c> [N]
/// (int64) and every trainable tensor under its torchvision name; outputs <c>loss</c> (scalar),
/// <c>logits</c> [N, K], <c>features</c> [N, D] and <c>NAME@grad</c> for each trainable tensor.
/// Frozen layers are constants inside the graph.
/// </summary>
internal sealed record TrainingGraph(ModelProto Model, IReadOnlyList<string> Trainable, int Resolution, int Classes, int FeatureDimension, bool HasGradients)
{
    public const string Pixels = "pixels";
    public const string Labels = "labels";
    public const string Loss = "loss";
    public const string Logits = "logits";
    public const string Features = "features";

    public static string GradientOf(string parameter) => parameter + "@grad";
}
