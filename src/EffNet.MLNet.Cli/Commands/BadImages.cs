using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;
using Spectre.Console;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>
/// The one bad-image policy of every command that reads images: skip (name each bad image with its
/// reason on stderr and in the report, and go on with the others) or fail (stop at the first, exit 3).
/// Truncated images are bad unless --accept-truncated, which warns about each one.
/// </summary>
internal static class BadImages
{
    public const string Description =
        "skip: leave unusable images (not images, damaged, truncated) out, name each on stderr and in the report (<out>.bad-images.tsv where there is an --out); fail: stop at the first one (exit code 3).";

    public const string AcceptTruncatedDescription =
        "Use truncated images (files that end before the image does) from the rows that are there, with a warning naming each, instead of treating them as bad.";

    /// <summary>Where the list of left-out images goes: <c>&lt;out&gt;.bad-images.tsv</c> beside the output.</summary>
    public static string ReportPath(string output) => Path.ChangeExtension(output, ".bad-images.tsv");

    public static ValidationResult Validate(string policy) => policy is "skip" or "fail"
        ? ValidationResult.Success()
        : ValidationResult.Error($"--on-bad-image must be skip or fail, not '{policy}'.");

    /// <summary>A folder or manifest's images, with a one-line warning for each symbolic link that was not followed.</summary>
    public static IReadOnlyList<LabeledImage> LoadDataset(string path, bool requireLabels = true)
    {
        var skipped = new List<BadImage>();
        var images = ImageDataset.Load(path, requireLabels, skipped);
        WarnSkipped(skipped);
        return images;
    }

    /// <summary>The images in the folders and files named, each once, with a warning for each link not followed.</summary>
    public static List<string> ImagesIn(IEnumerable<string> inputs)
    {
        var images = new List<string>();
        var skipped = new List<BadImage>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
                images.AddRange(ImageDataset.ImageFiles(input, skipped));
            else if (File.Exists(input) || FileKind.OfEntry(input) is not FileKind.Kind.Missing)
                images.Add(Path.GetFullPath(input));
            else
                throw new ArgumentException($"'{input}' is neither an image file nor a folder.");
        }
        WarnSkipped(skipped);
        return images.Distinct().ToList();
    }

    /// <summary>Name each entry left out without being opened on stderr.</summary>
    public static void WarnSkipped(IEnumerable<BadImage> skipped)
    {
        foreach (var s in skipped) Stderr.MarkupLine($"[yellow]warning:[/] skipped {Inert.Name(s.ImagePath)}: {Inert.Markup(s.Reason)}");
    }

    /// <summary>The cheap pass before featurizing: headers only (the decoder finds damage in the body).</summary>
    /// <exception cref="BadImageException">Under fail, the first image with a bad header.</exception>
    public static (List<LabeledImage> Good, List<BadImage> Bad) CheckHeaders(IReadOnlyList<LabeledImage> images, bool fail)
    {
        if (!fail) return ImageCheck.Partition(images, i => i.ImagePath);
        foreach (var image in images)
            if (ImageCheck.HeaderProblem(image.ImagePath) is { } reason)
                throw new BadImageException(image.ImagePath, reason);
        return ([.. images], []);
    }

    /// <summary>The full check (every image decoded once) for commands that hand images to a saved model, whose ML.NET decoding names no file.</summary>
    /// <exception cref="BadImageException">Under fail, the first unusable image.</exception>
    public static (List<T> Good, List<BadImage> Bad, List<BadImage> Truncated) Screen<T>(IEnumerable<T> items, Func<T, string> path, bool fail, bool acceptTruncated)
    {
        var (good, bad, truncated) = (new List<T>(), new List<BadImage>(), new List<BadImage>());
        var list = items.ToList();
        // Each image is decoded once, on every core; the verdicts are then read in order, so under fail the first bad one is named.
        var problems = new ImageProblem?[list.Count];
        Parallel.For(0, list.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => problems[i] = ImageCheck.Inspect(path(list[i])));
        for (var i = 0; i < list.Count; i++)
        {
            var item = list[i];
            var p = path(item);
            var problem = problems[i];
            if (problem is null || (problem.Truncated && acceptTruncated))
            {
                good.Add(item);
                if (problem is not null) truncated.Add(new BadImage(p, problem.Reason));
            }
            else if (fail) throw new BadImageException(p, problem.Reason);
            else bad.Add(new BadImage(p, problem.Reason));
        }
        return (good, bad, truncated);
    }

    /// <summary>Name each left-out image on stderr.</summary>
    public static void Print(IEnumerable<BadImage> bad)
    {
        foreach (var b in bad) Stderr.MarkupLine($"[yellow]skipped[/] {Inert.Name(b.ImagePath)}: {Inert.Markup(b.Reason)}");
    }

    /// <summary>Warn about each truncated image the head uses but fine-tuning, which decodes strictly, leaves out.</summary>
    public static void WarnLeftOutOfFineTuning(IEnumerable<BadImage> truncated)
    {
        foreach (var t in truncated)
            Stderr.MarkupLine($"[yellow]warning:[/] {Inert.Name(t.ImagePath)} {Inert.Markup(t.Reason)}; fine-tuning leaves it out, the head uses it (--accept-truncated)");
    }

    /// <summary>Warn about each truncated image that was used.</summary>
    public static void WarnTruncated(IEnumerable<BadImage> truncated)
    {
        foreach (var t in truncated)
            Stderr.MarkupLine($"[yellow]warning:[/] {Inert.Name(t.ImagePath)} {Inert.Markup(t.Reason)}; used anyway (--accept-truncated)");
    }

    /// <summary>
    /// Write <c>&lt;out&gt;.bad-images.tsv</c> when images were left out; otherwise remove a stale one from an
    /// earlier run (the caller has already refused to run over it without --force).
    /// </summary>
    public static void WriteOrRemoveReport(string output, IReadOnlyList<BadImage> bad)
    {
        var path = ReportPath(output);
        if (bad.Count > 0)
        {
            ImageCheck.WriteReport(path, bad);
            Stderr.MarkupLine($"[yellow]{bad.Count} unusable image(s) left out; all listed in {Inert.Markup(path)}[/]");
        }
        else
        {
            File.Delete(path);
        }
    }

    private static IAnsiConsole Stderr { get; } = RedirectedWidth.Stderr();
}
