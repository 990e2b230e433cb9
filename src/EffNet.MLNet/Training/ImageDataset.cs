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
    public static IReadOnlyList<LabeledImage> Load(string path, bool requireLabels)
    {
        if (Directory.Exists(path)) return FromFolder(path, requireLabels);
        if (File.Exists(path)) return FromManifest(path, requireLabels);
        throw new FileNotFoundException($"The dataset '{path}' is neither a folder nor a manifest file.", path);
    }

    /// <summary>One sub-folder per label; images anywhere below it.</summary>
    public static IReadOnlyList<LabeledImage> FromFolder(string folder) => FromFolder(folder, requireLabels: true);

    private static IReadOnlyList<LabeledImage> FromFolder(string folder, bool requireLabels)
    {
        var root = Path.GetFullPath(folder);
        var rows = new List<LabeledImage>();
        if (!requireLabels)
            rows.AddRange(Directory.EnumerateFiles(root).Where(f => ImageExtensions.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal).Select(f => new LabeledImage(f, "")));
        foreach (var labelDir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var label = Path.GetFileName(labelDir);
            rows.AddRange(Directory.EnumerateFiles(labelDir, "*", SearchOption.AllDirectories)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal)
                .Select(f => new LabeledImage(f, label)));
        }
        if (rows.Count == 0 && !requireLabels)
            throw new InvalidDataException($"'{root}' holds no images (.jpg, .jpeg, .png, .bmp, .gif, .webp), neither directly nor in sub-folders.");
        if (rows.Count == 0)
            throw new InvalidDataException($"'{root}' holds no images in label sub-folders (expected {root}/<label>/<image>.jpg|png|…).");
        return rows;
    }

    /// <summary>A CSV or TSV of <c>path,label</c>; a header line <c>path,label</c> is skipped.</summary>
    public static IReadOnlyList<LabeledImage> FromManifest(string manifest) => FromManifest(manifest, requireLabels: true);

    private static IReadOnlyList<LabeledImage> FromManifest(string manifest, bool requireLabels)
    {
        var full = Path.GetFullPath(manifest);
        var baseDir = Path.GetDirectoryName(full)!;
        var separator = full.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var rows = new List<LabeledImage>();
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
            rows.Add(new LabeledImage(Path.GetFullPath(Path.Combine(baseDir, p)), label));
        }
        if (rows.Count == 0) throw new InvalidDataException($"'{full}' lists no images.");
        return rows;
    }
}
