namespace EffNet.MLNet.Tests;

/// <summary>
/// Odd but valid images made by the fixture script with Pillow (EXIF orientations 1-8, CMYK,
/// progressive, grayscale, 16-bit, palette with transparency, RGBA, animated GIF, WebP, 24 MP,
/// 1×1, a non-ASCII name), once per test process.
/// </summary>
internal static class ImageCorpus
{
    private static readonly Lazy<string> Generated = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "effnet-image-corpus-" + Environment.ProcessId);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } };
        TorchvisionFixtures.RunScript("images", dir);
        return dir;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Folder => Generated.Value;

    public static string File(string name) => Path.Combine(Folder, name);

    /// <summary>Every image of the corpus, by file name.</summary>
    public static IReadOnlyList<string> Names => Directory.GetFiles(Folder).Select(Path.GetFileName).OfType<string>()
        .Where(n => n != "DONE").Order(StringComparer.Ordinal).ToList();
}
