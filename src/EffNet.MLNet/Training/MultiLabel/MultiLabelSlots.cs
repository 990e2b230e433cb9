namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>
/// The one rule, for the CLI and for serving, that pairs a multi-label model.json with its .zip: the thresholds and
/// names are matched to the <c>Probability</c> slots by position, so the slots must be named, and named exactly
/// the report's labels in the report's order; an edited model.json or one beside another model's .zip would
/// otherwise name the wrong labels without a word.
/// </summary>
internal static class MultiLabelSlots
{
    /// <exception cref="InvalidDataException">The slot names are missing or are not the report's labels.</exception>
    public static void RequireReportLabels(IReadOnlyList<string> slots, IReadOnlyList<string> labels, string reportPath, string modelPath)
    {
        if (slots.SequenceEqual(labels, StringComparer.Ordinal)) return;
        throw new InvalidDataException(
            $"'{InertText.Name(reportPath)}' names the labels {InertText.Name(string.Join(";", labels))} but '{InertText.Name(modelPath)}' outputs " +
            $"{(slots.Count == 0 ? "no labelled Probability vector" : InertText.Name(string.Join(";", slots)))}: the two do not belong together.");
    }
}
