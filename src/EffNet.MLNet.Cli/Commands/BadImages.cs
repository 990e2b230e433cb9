using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>The --on-bad-image policy: skip (report and leave out) or fail (stop at the first).</summary>
internal static class BadImages
{
    public const string Description = "skip: leave unreadable images out and list them in <out>.bad-images.tsv; fail: stop at the first one.";

    /// <summary>Where the list of left-out images goes: <c>&lt;out&gt;.bad-images.tsv</c> beside the output.</summary>
    public static string ReportPath(string output) => Path.ChangeExtension(output, ".bad-images.tsv");

    public static ValidationResult Validate(string policy) => policy is "skip" or "fail"
        ? ValidationResult.Success()
        : ValidationResult.Error($"--on-bad-image must be skip or fail, not '{policy}'.");

    public static (List<LabeledImage> Good, List<BadImage> Bad) Check(IReadOnlyList<LabeledImage> images, bool fail)
    {
        if (!fail) return ImageCheck.Partition(images, i => i.ImagePath);
        foreach (var image in images)
            if (ImageCheck.Problem(image.ImagePath) is { } reason)
                throw new InvalidDataException($"'{image.ImagePath}' {reason}.");
        return ([.. images], []);
    }
}
