using EffNet.MLNet.Training.MultiLabel;

namespace EffNet.MLNet.Tests.MultiLabel;

/// <summary>The multi-label manifest and the iterative stratified split.</summary>
public class MultiLabelDataTests
{
    // Mutation: MultiLabelManifest.Load splits the label field on the manifest's separator instead of ';' -> "cat;outdoor" stays one label -> fails.
    [Fact]
    public void A_manifest_gives_each_image_its_labels_quoted_or_not_and_none_for_an_empty_field()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("m.csv"), "path,labels\n# a comment\na.png,\"cat;outdoor\"\nsub/b.png, dog ; cat \nc.png,\"\"\nd.png,\n");
        var rows = MultiLabelManifest.Load(dir.File("m.csv"));
        Assert.Equal([dir.File("a.png"), dir.File("sub/b.png"), dir.File("c.png"), dir.File("d.png")], rows.Select(r => r.ImagePath));
        Assert.Equal(["cat", "outdoor"], rows[0].Labels);
        Assert.Equal(["dog", "cat"], rows[1].Labels);
        Assert.Empty(rows[2].Labels);
        Assert.Empty(rows[3].Labels);
        File.WriteAllText(dir.File("m.tsv"), "a.png\tcat;outdoor\n");
        Assert.Equal(["cat", "outdoor"], MultiLabelManifest.Load(dir.File("m.tsv"))[0].Labels);
    }

    // Mutation (not run): drop the duplicate-label check in MultiLabelManifest.Load -> "cat;cat" is accepted -> fails.
    // Mutation (not run): drop the empty-label check -> "cat;;dog" gives an empty label -> fails.
    [Theory]
    [InlineData("a.png,cat\nb.png\n", "line 2: expected path,\"label1;label2\"")]
    [InlineData("a.png,\"cat;;dog\"\n", "line 1: an empty label in 'cat;;dog'")]
    [InlineData("a.png,cat\n\nb.png,\"cat;cat\"\n", "line 3: the label 'cat' is given twice")]
    [InlineData("a.png,\"cat;dog\n", "line 1: unbalanced or inner quotes")]
    [InlineData("a.png,cat,dog\n", "line 1: more than two fields; separate the labels of an image with ';'")]
    [InlineData(",cat\n", "line 1: the image path is empty")]
    [InlineData("# nothing\n", "lists no images")]
    [InlineData("a.png,cat\nb.png,dog\n./a.png,dog\n", "line 3: './a.png' is listed again (first on line 1)")]
    public void A_bad_row_is_refused_naming_the_file_and_the_line(string text, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.csv"), text);
        var error = Assert.Throws<InvalidDataException>(() => MultiLabelManifest.Load(dir.File("bad.csv")));
        Assert.Contains($"'{dir.File("bad.csv")}'", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_folder_is_refused_because_no_folder_layout_is_defined()
    {
        using var dir = new TempDir();
        var error = Assert.Throws<InvalidDataException>(() => MultiLabelManifest.Load(dir.Path));
        Assert.Contains("a folder layout is not defined", error.Message);
    }

    // Mutation (run): IterativeStratifiedSplit takes the fold with more rows wanted, ignoring the label's wants -> "a: 29 of 208 in validation" -> fails.
    [Fact]
    public void The_split_keeps_every_labels_share_close_to_the_fraction_and_is_seeded()
    {
        var random = new Random(7);
        // Labels of very different frequency, co-occurring: a on half the rows, b on a fifth, c on 1 in 20, some rows with none.
        var sets = Enumerable.Range(0, 400).Select(_ => (IReadOnlyList<string>)new[] { "a", "b", "c" }
            .Where((l, k) => random.NextDouble() < new[] { 0.5, 0.2, 0.05 }[k]).ToArray()).ToList();
        var (train, validation) = IterativeStratifiedSplit.Split(sets, 0.25, 3);
        Assert.Equal(400, train.Length + validation.Length);
        Assert.Empty(train.Intersect(validation));
        Assert.InRange(validation.Length, 95, 105);
        foreach (var label in new[] { "a", "b", "c" })
        {
            var total = sets.Count(s => s.Contains(label));
            var held = validation.Count(i => sets[i].Contains(label));
            Assert.True(Math.Abs(held - 0.25 * total) <= 1.01, $"{label}: {held} of {total} in validation");
        }
        Assert.Equal(validation, IterativeStratifiedSplit.Split(sets, 0.25, 3).Validation);
        Assert.NotEqual(validation, IterativeStratifiedSplit.Split(sets, 0.25, 4).Validation);
    }
}
