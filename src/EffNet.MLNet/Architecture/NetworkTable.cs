namespace EffNet.MLNet.Architecture;

/// <summary>
/// What a family's builder needs beside the variant's multipliers: the stage table and the rules
/// around it. One per family; <see cref="EfficientNetArchitecture.For"/> is the only builder.
/// </summary>
/// <param name="Stages">The stage rows at width and depth 1.0.</param>
/// <param name="StemChannels">Stem width at width 1.0.</param>
/// <param name="HeadChannels">Head width, or null for four times the last stage's.</param>
/// <param name="ScaleStemAndHead">Whether the width multiplier applies to the stem and head (not in Lite).</param>
/// <param name="FixFirstAndLastDepth">Whether the first and last stages keep their repeats under depth scaling (Lite).</param>
/// <param name="Activation">The nonlinearity.</param>
internal sealed record NetworkTable(
    IReadOnlyList<StageSpec> Stages, int StemChannels, int? HeadChannels, bool ScaleStemAndHead, bool FixFirstAndLastDepth, Activation Activation)
{
    public static NetworkTable For(EfficientNetVariant variant) => variant.Family switch
    {
        ArchitectureFamily.EfficientNetV2 => EfficientNetV2Family.Table(variant),
        ArchitectureFamily.EfficientNetLite => EfficientNetLiteFamily.Table,
        _ => EfficientNetFamily.Table,
    };
}
