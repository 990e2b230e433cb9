namespace EffNet.MLNet.Training.MultiLabel;

/// <summary>
/// A CSV or TSV manifest of <c>path,"label1;label2"</c> lines: paths relative to the manifest's folder,
/// labels separated by <c>;</c> (quotes optional), an empty label field for an image with no label.
/// A header line <c>path,labels</c> is skipped; blank lines and lines starting with <c>#</c> too.
/// </summary>
public static class MultiLabelManifest
{
    /// <summary>Separates the labels of one image.</summary>
    public const char LabelSeparator = ';';

    /// <summary>Read <paramref name="manifest"/>.</summary>
    /// <exception cref="InvalidDataException">A line is malformed; the message names the file and the line.</exception>
    public static IReadOnlyList<MultiLabeledImage> Load(string manifest)
    {
        if (Directory.Exists(manifest))
            throw new InvalidDataException($"'{manifest}' is a folder; multi-label data needs a manifest of path,\"label1;label2\" lines (a folder layout is not defined).");
        var full = Path.GetFullPath(manifest);
        if (!File.Exists(full)) throw new FileNotFoundException($"The manifest '{full}' does not exist.", full);
        var baseDir = Path.GetDirectoryName(full)!;
        var separator = full.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var rows = new List<MultiLabeledImage>();
        // An image listed twice could land in both the training and the validation split, and its thresholds tuned on itself.
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(full))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var at = line.IndexOf(separator);
            string Where() => $"'{full}' line {lineNumber}";
            if (at < 0)
                throw new InvalidDataException($"{Where()}: expected path{separator}\"label1{LabelSeparator}label2\" (an empty label field for none), got '{InertText.Line(line)}'.");
            var path = Unquote(line[..at].Trim(), Where);
            var field = Unquote(line[(at + 1)..].Trim(), Where);
            if (lineNumber == 1 && path.Equals("path", StringComparison.OrdinalIgnoreCase)) continue;
            if (path.Length == 0) throw new InvalidDataException($"{Where()}: the image path is empty.");
            if (field.Contains(separator))
                throw new InvalidDataException($"{Where()}: more than two fields; separate the labels of an image with '{LabelSeparator}', not '{(separator == '\t' ? "\\t" : separator)}'.");
            var labels = field.Length == 0 ? [] : field.Split(LabelSeparator).Select(l => l.Trim()).ToArray();
            if (labels.Any(l => l.Length == 0))
                throw new InvalidDataException($"{Where()}: an empty label in '{InertText.Line(field)}'; write labels as label1{LabelSeparator}label2.");
            if (labels.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new InvalidDataException($"{Where()}: the label '{InertText.Name(twice.Key)}' is given twice.");
            var imagePath = Path.GetFullPath(Path.Combine(baseDir, path));
            if (!firstLine.TryAdd(imagePath, lineNumber))
                throw new InvalidDataException($"{Where()}: '{InertText.Line(path)}' is listed again (first on line {firstLine[imagePath]}); give each image once, with all its labels.");
            rows.Add(new MultiLabeledImage(imagePath, labels));
        }
        if (rows.Count == 0) throw new InvalidDataException($"'{full}' lists no images.");
        return rows;
    }

    private static string Unquote(string field, Func<string> where)
    {
        if (!field.Contains('"')) return field;
        if (field.Length >= 2 && field[0] == '"' && field[^1] == '"' && !field[1..^1].Contains('"')) return field[1..^1].Trim();
        throw new InvalidDataException($"{where()}: unbalanced or inner quotes in {InertText.Line(field)}; quote a whole field, as \"label1{LabelSeparator}label2\".");
    }

    /// <summary>Whether <paramref name="manifest"/> is a file with a <c>;</c> in a label field (after a line's first separator): a hint that it is multi-label.</summary>
    internal static bool LooksMultiLabel(string manifest)
    {
        if (!File.Exists(manifest)) return false;
        var separator = manifest.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        return File.ReadLines(manifest).Take(100_000).Any(l => !l.TrimStart().StartsWith('#') && l.IndexOf(separator) is >= 0 and var at && l.IndexOf(LabelSeparator, at) >= 0);
    }
}
