using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Tests;

/// <summary>Names from outside are escaped before they are printed or written, and huge ones are cut.</summary>
public class InertTextTests
{
    internal const string Hostile = "evil\u001b]0;owned\u0007\u001b[2J\n\tcol\u009bx\u202e";

    [Fact]
    public void Every_control_character_is_shown_as_an_escape()
    {
        var shown = InertText.Escape(Hostile);
        Assert.Equal(@"evil\x1b]0;owned\x07\x1b[2J\n\tcol\x9bx\u202e", shown);
        Assert.DoesNotContain(shown, c => c < ' ' || c is >= '\u007f' and <= '\u009f');
        Assert.Same("plain/path/é.jpg", InertText.Escape("plain/path/é.jpg"));
    }

    [Fact]
    public void A_huge_name_is_cut_keeping_both_ends()
    {
        var name = "/data/" + new string('a', 5000) + "/end.jpg";
        var shown = InertText.Name(name);
        Assert.True(shown.Length <= InertText.MaxNameLength, $"{shown.Length} characters");
        Assert.StartsWith("/data/aaa", shown);
        Assert.EndsWith("/end.jpg", shown);
        Assert.Contains("characters cut", shown);
    }

    // Mutation: WriteReport writes b.ImagePath raw -> the name's newline and tab add a row and a column: fails.
    [Fact]
    public void A_name_with_a_newline_and_a_tab_stays_one_row_of_two_columns_in_the_report()
    {
        using var dir = new TempDir();
        var report = dir.File("r.bad-images.tsv");
        ImageCheck.WriteReport(report, [new BadImage("/d/" + Hostile + ".jpg", "is not an image"), new BadImage("/d/ok.jpg", "is empty (0 bytes)")]);
        var bytes = File.ReadAllBytes(report);
        Assert.DoesNotContain(bytes, b => b < 0x20 && b is not (byte)'\n' and not (byte)'\t');
        var lines = File.ReadAllLines(report);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Equal(2, l.Split('\t').Length));
        Assert.Equal(@"/d/evil\x1b]0;owned\x07\x1b[2J\n\tcol\x9bx\u202e.jpg", lines[1].Split('\t')[0]);
    }
}
