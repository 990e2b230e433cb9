using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Training;

/// <summary>
/// Labelled images from a folder with one sub-folder per label (found recursively), or from a
/// CSV/TSV manifest of <c>path,label</c> lines with paths relative to the manifest's folder.
/// </summary>
public static class ImageDataset
{
    /// <summary>File extensions treated as images.</summary>
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp" };

    /// <summary>Load a folder or a manifest, whichever <paramref name="path"/> is.</summary>
    /// <exception cref="InvalidDataException">The dataset is empty or malformed; the message names the path.</exception>
    public static IReadOnlyList<LabeledImage> Load(string path) => Load(path, requireLabels: true);

    /// <summary>
    /// Load a folder or a manifest; with <paramref name="requireLabels"/> false, images directly in
    /// the folder and manifest lines with a path alone are kept with an empty label (for featurizing).
    /// </summary>
    /// <exception cref="InvalidDataException">The dataset is empty or malformed; the message names the path.</exception>
    public static IReadOnlyList<LabeledImage> Load(string path, bool requireLabels) => Load(path, requireLabels, skipped: null);

    /// <summary>As <see cref="Load(string, bool)"/>, adding each symbolic link of a folder that was not followed to <paramref name="skipped"/>.</summary>
    internal static IReadOnlyList<LabeledImage> Load(string path, bool requireLabels, ICollection<BadImage>? skipped)
    {
        if (Directory.Exists(path)) return FromFolder(path, requireLabels, skipped);
        if (File.Exists(path)) return FromManifest(path, requireLabels);
        throw new FileNotFoundException($"The dataset '{path}' is neither a folder nor a manifest file.", path);
    }

    /// <summary>One sub-folder per label; images anywhere below it.</summary>
    public static IReadOnlyList<LabeledImage> FromFolder(string folder) => FromFolder(folder, requireLabels: true, skipped: null);

    /// <summary>
    /// The image files anywhere below <paramref name="folder"/>, full paths in ordinal order, found as
    /// <see cref="FromFolder(string)"/> finds them (see <see cref="ImagesBelow"/>).
    /// </summary>
    internal static IReadOnlyList<string> ImageFiles(string folder, ICollection<BadImage>? skipped)
    {
        var root = Path.GetFullPath(folder);
        return [.. ImagesBelow(RealRoot(root), root, recursive: true, skipped).Order(StringComparer.Ordinal)];
    }

    private static IReadOnlyList<LabeledImage> FromFolder(string folder, bool requireLabels, ICollection<BadImage>? skipped)
    {
        var root = Path.GetFullPath(folder);
        var realRoot = RealRoot(root);
        var rows = new List<LabeledImage>();
        if (!requireLabels)
            rows.AddRange(ImagesBelow(realRoot, root, recursive: false, skipped).Order(StringComparer.Ordinal).Select(f => new LabeledImage(f, "")));
        foreach (var labelDir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            if (FileKind.OfEntry(labelDir) != FileKind.Kind.Directory)
            {
                skipped?.Add(new BadImage(labelDir, LinkedFolder));
                continue;
            }
            if (IsHidden(labelDir))
            {
                skipped?.Add(new BadImage(labelDir, HiddenFolder));
                continue;
            }
            var label = Path.GetFileName(labelDir);
            rows.AddRange(ImagesBelow(realRoot, labelDir, recursive: true, skipped)
                .Order(StringComparer.Ordinal)
                .Select(f => new LabeledImage(f, label)));
        }
        if (rows.Count == 0 && !requireLabels)
            throw new InvalidDataException($"'{root}' holds no images (.jpg, .jpeg, .png, .bmp, .gif, .webp), neither directly nor in sub-folders.");
        if (rows.Count == 0)
            throw new InvalidDataException($"'{root}' holds no images in label sub-folders (expected {root}/<label>/<image>.jpg|png|…).");
        return rows;
    }

    // .ipynb_checkpoints, .git, .DS_Store's folders: a tool's, not a label (a notebook saving a copy of an image would add a class).
    private const string HiddenFolder = "is a hidden folder (its name starts with '.'); not read as a label or searched for images";

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    private const string LinkedFolder = "is a symbolic link to a folder; linked folders are not followed (a link such as loop -> .. would list images twice, under the wrong label)";

    // Walks real folders only: a symbolic link to a folder is skipped, and a link to a file is kept
    // only when the file it names lies inside the data folder. FIFOs, devices and sockets with an
    // image's name are kept, so that the image check names each as bad without opening it.
    private static IEnumerable<string> ImagesBelow(string realRoot, string folder, bool recursive, ICollection<BadImage>? skipped)
    {
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.Count > 0)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(pending.Pop()))
            {
                var kind = FileKind.OfEntry(entry);
                if (kind == FileKind.Kind.Directory)
                {
                    if (recursive && !IsHidden(entry)) pending.Push(entry);
                    else if (recursive) skipped?.Add(new BadImage(entry, HiddenFolder));
                    continue;
                }
                if (kind == FileKind.Kind.SymbolicLink && FileKind.Of(entry) == FileKind.Kind.Directory)
                {
                    if (recursive) skipped?.Add(new BadImage(entry, LinkedFolder));
                    continue;
                }
                if (!ImageExtensions.Contains(Path.GetExtension(entry))) continue;
                if (kind == FileKind.Kind.SymbolicLink && FileKind.RealPath(entry) is { } real && !IsInside(realRoot, real))
                {
                    skipped?.Add(new BadImage(entry, $"is a symbolic link to '{real}', outside the data folder; not followed"));
                    continue;
                }
                yield return entry;
            }
        }
    }

    private static string RealRoot(string root) => FileKind.RealPath(root) ?? root;

    private static bool IsInside(string root, string path) =>
        path.StartsWith(Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>A CSV or TSV of <c>path,label</c>; a header line <c>path,label</c> is skipped.</summary>
    public static IReadOnlyList<LabeledImage> FromManifest(string manifest) => FromManifest(manifest, requireLabels: true);

    private static IReadOnlyList<LabeledImage> FromManifest(string manifest, bool requireLabels)
    {
        var full = Path.GetFullPath(manifest);
        var baseDir = Path.GetDirectoryName(full)!;
        var separator = full.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var rows = new List<LabeledImage>();
        var listedAt = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(full))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(separator);
            if (parts.Length < 2 && requireLabels)
                throw new InvalidDataException($"'{full}' line {lineNumber}: expected path{separator}label, got '{line}'.");
            var (p, label) = (parts[0].Trim().Trim('"'), parts.Length < 2 ? "" : parts[1].Trim().Trim('"'));
            if (lineNumber == 1 && p.Equals("path", StringComparison.OrdinalIgnoreCase)) continue;
            // An empty label would become a class named ''; an image listed twice would train twice, or under two labels at once.
            if (requireLabels && label.Length == 0)
                throw new InvalidDataException($"'{full}' line {lineNumber}: '{p}' has no label.");
            var imagePath = Path.GetFullPath(Path.Combine(baseDir, p));
            if (requireLabels && listedAt.TryGetValue(imagePath, out var first))
                throw new InvalidDataException($"'{full}' line {lineNumber}: '{p}' is already listed on line {first}; list each image once.");
            listedAt[imagePath] = lineNumber;
            rows.Add(new LabeledImage(imagePath, label));
        }
        if (rows.Count == 0) throw new InvalidDataException($"'{full}' lists no images.");
        return rows;
    }
}
