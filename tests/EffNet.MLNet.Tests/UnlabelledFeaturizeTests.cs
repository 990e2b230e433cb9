using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Tests;

/// <summary><c>effnet featurize</c> on images without labels: a flat folder, a manifest of paths alone.</summary>
public class UnlabelledFeaturizeTests
{
    public sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
        [VectorType(1280)] public float[] Features { get; set; } = [];
    }

    private static List<Row> Rows(string idv)
    {
        var ml = new MLContext(0);
        return ml.Data.CreateEnumerable<Row>(ml.Data.LoadFromBinary(idv), false).ToList();
    }

    [Fact]
    public void A_flat_folder_and_a_path_only_manifest_featurize_with_empty_labels_and_the_same_vectors()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var flat = Directory.CreateDirectory(dir.File("photos")).FullName;
        var picked = new[] { "checkers", "discs", "stripes" }.Select(l => Directory.GetFiles(Path.Combine(SampleData.Folder, l)).Order().First()).ToList();
        foreach (var f in picked) File.Copy(f, Path.Combine(flat, Path.GetFileName(f)));
        // A labelled sub-folder beside the loose images keeps its label.
        Directory.CreateDirectory(Path.Combine(flat, "discs"));
        File.Copy(picked[1], Path.Combine(flat, "discs", "again.jpg"));

        var fromFolder = dir.File("folder.idv");
        var a = CliTests.EffnetWithHome(home, "featurize", "--data", flat, "--out", fromFolder, "--random-init");
        Assert.True(a.Code == 0, a.Err);
        var folderRows = Rows(fromFolder);
        Assert.Equal(4, folderRows.Count);
        Assert.Equal(["", "", "", "discs"], folderRows.Select(r => r.Label).Order(StringComparer.Ordinal));
        Assert.Equal(folderRows.Single(r => r.Label == "discs").Features, folderRows.Single(r => r.ImagePath.EndsWith(Path.GetFileName(picked[1]))).Features);

        var manifest = dir.File("paths.csv");
        File.WriteAllLines(manifest, ["path", .. picked.Select(p => Path.Combine("photos", Path.GetFileName(p)))]);
        var fromManifest = dir.File("manifest.idv");
        var b = CliTests.EffnetWithHome(home, "featurize", "--data", manifest, "--out", fromManifest, "--random-init");
        Assert.True(b.Code == 0, b.Err);
        var manifestRows = Rows(fromManifest);
        Assert.Equal(3, manifestRows.Count);
        Assert.All(manifestRows, r => Assert.Equal("", r.Label));
        foreach (var r in manifestRows)
            Assert.Equal(folderRows.Single(f => f.ImagePath == r.ImagePath).Features, r.Features);
    }

    [Fact]
    public void Training_still_requires_labels()
    {
        using var dir = new TempDir();
        var flat = Directory.CreateDirectory(dir.File("photos")).FullName;
        File.Copy(Directory.GetFiles(Path.Combine(SampleData.Folder, "discs")).Order().First(), Path.Combine(flat, "a.jpg"));
        var (code, _, stderr) = CliTests.Effnet("train", "--data", flat, "--out", dir.File("m.zip"), "--random-init");
        Assert.Equal(3, code);
        Assert.Contains("label sub-folders", System.Text.RegularExpressions.Regex.Replace(stderr, @"\s+", " "));
        Assert.Throws<InvalidDataException>(() => Training.ImageDataset.Load(flat));
        Assert.Single(Training.ImageDataset.Load(flat, requireLabels: false));

        var manifest = dir.File("m.csv");
        File.WriteAllText(manifest, "photos/a.jpg\n");
        Assert.Throws<InvalidDataException>(() => Training.ImageDataset.Load(manifest));
        Assert.Equal("", Assert.Single(Training.ImageDataset.Load(manifest, requireLabels: false)).Label);
    }

    [Fact]
    public void An_empty_folder_names_itself()
    {
        using var dir = new TempDir();
        var empty = Directory.CreateDirectory(dir.File("nothing")).FullName;
        var e = Assert.Throws<InvalidDataException>(() => Training.ImageDataset.Load(empty, requireLabels: false));
        Assert.Contains(empty, e.Message);
    }
}
