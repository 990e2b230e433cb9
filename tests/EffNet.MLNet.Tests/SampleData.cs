namespace EffNet.MLNet.Tests;

public sealed class ImageRow
{
    public string ImagePath { get; set; } = "";
    public string Label { get; set; } = "";
}

internal static class SampleData
{
    public static string Folder => Path.Combine(RepoPaths.Root, "sample-data");

    public static List<ImageRow> Rows() => Directory.GetDirectories(Folder).Order()
        .SelectMany(d => Directory.GetFiles(d).Where(f => f.EndsWith(".jpg") || f.EndsWith(".png")).Order()
            .Select(f => new ImageRow { ImagePath = f, Label = Path.GetFileName(d) }))
        .ToList();

    /// <summary>Copy the first <paramref name="perLabel"/> images of each label (by name) into <paramref name="destination"/>, one folder per label.</summary>
    public static string CopyFirst(string destination, int perLabel)
    {
        foreach (var label in Directory.GetDirectories(Folder).Select(Path.GetFileName).Order())
        {
            Directory.CreateDirectory(Path.Combine(destination, label!));
            foreach (var f in Directory.GetFiles(Path.Combine(Folder, label!)).Order().Take(perLabel))
                File.Copy(f, Path.Combine(destination, label!, Path.GetFileName(f)));
        }
        return destination;
    }
}
