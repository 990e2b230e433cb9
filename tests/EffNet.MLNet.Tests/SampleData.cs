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
}
