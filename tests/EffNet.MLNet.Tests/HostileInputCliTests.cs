using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Data folders and names an attacker controls, through the real <c>effnet</c> command: a symlink
/// loop and a FIFO in the data, and labels and file names full of terminal escape sequences.
/// Each run has its own EFFNET_HOME and a time limit, so a hang fails the test instead of the suite.
/// </summary>
public class HostileInputCliTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(240);

    private static string Dataset(string folder, string[] labels, int perLabel = 4)
    {
        string[] sources = ["discs", "stripes"];
        for (var i = 0; i < labels.Length; i++)
        {
            Directory.CreateDirectory(Path.Combine(folder, labels[i]));
            foreach (var f in Directory.GetFiles(Path.Combine(SampleData.Folder, sources[i])).Order().Take(perLabel))
                File.Copy(f, Path.Combine(folder, labels[i], Path.GetFileName(f)));
        }
        return folder;
    }

    // The console wraps long lines at its width; the words are what matter.
    private static string Flat(string text) => Regex.Replace(text, @"\s+", " ");

    private static void AssertOk((int Code, string Out, string Err) run)
    {
        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Err}");
        Assert.DoesNotContain("   at ", run.Err);
    }

    // Bytes below 0x20 other than the newlines between lines (and CR, for Windows), and DEL and C1 as UTF-8 (C2 80..9F).
    private static void AssertInert(string text, string what)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var raw = (b < 0x20 && b is not (byte)'\n' and not (byte)'\r') || b == 0x7f || (b == 0xC2 && i + 1 < bytes.Length && bytes[i + 1] is >= 0x80 and <= 0x9F);
            Assert.False(raw, $"{what} holds raw control byte 0x{b:x2} at byte {i}: …{InertText.Escape(Encoding.UTF8.GetString(bytes[Math.Max(0, i - 60)..Math.Min(bytes.Length, i + 20)]))}…");
        }
    }

    // Mutations run on the unit tests of the same lines (DataFolderTests): ImagesBelow following linked folders,
    // OpenedImage opening without FileKind. This test shows the whole command line holds.
    [Fact]
    public void A_symlink_loop_and_a_fifo_in_the_data_change_no_row_and_hang_nothing()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var data = Dataset(dir.File("data"), ["discs", "stripes"]);
        Directory.CreateSymbolicLink(Path.Combine(data, "discs", "loop"), "..");
        var fifo = Path.Combine(data, "stripes", "x.jpg");
        DataFolderTests.MakeFifo(fifo);
        var model = dir.File("out/model.zip");

        var train = CliTests.EffnetWithin(Limit, home, "train", "--data", data, "--out", model, "--random-init", "--trainer", "lbfgs", "--quiet");
        AssertOk(train);
        Assert.Contains("x.jpg: is a FIFO (named pipe), not a regular file; it was not opened", Flat(train.Err));
        Assert.Contains("loop: is a symbolic link to a folder", Flat(train.Err));
        using (var json = JsonDocument.Parse(File.ReadAllText(dir.File("out/model.json"))))
        {
            Assert.Equal(8, json.RootElement.GetProperty("data").GetProperty("images").GetInt32());
            Assert.Equal(1, json.RootElement.GetProperty("data").GetProperty("skippedImages").GetInt32());
        }
        var report = File.ReadAllLines(dir.File("out/model.bad-images.tsv"));
        Assert.Equal(["path\treason", fifo + "\tis a FIFO (named pipe), not a regular file; it was not opened"], report);

        var features = dir.File("features.csv");
        var featurize = CliTests.EffnetWithin(Limit, home, "featurize", "--data", data, "--out", features, "--random-init");
        AssertOk(featurize);
        Assert.Equal(9, File.ReadAllLines(features).Length); // header + 8 images, none twice
        Assert.Contains("x.jpg: is a FIFO", Flat(featurize.Err));

        var folder = CliTests.EffnetWithin(Limit, home, "predict", "--model", model, data, "--json");
        AssertOk(folder);
        var results = JsonDocument.Parse(folder.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(9, results.Count);
        Assert.Contains("is a FIFO", results.Single(r => r.GetProperty("image").GetString() == fifo).GetProperty("error").GetString());

        var single = CliTests.EffnetWithin(Limit, home, "predict", "--model", model, fifo, "--on-bad-image", "fail");
        Assert.Equal(3, single.Code);
        Assert.Contains("x.jpg' is a FIFO (named pipe)", Flat(single.Err));
        Assert.Single(Regex.Matches(single.Err, "error:"));
    }

    // Mutation: Inert.Markup and Inert.Name as plain Markup.Escape (no InertText) -> raw ESC in train's tables: fails.
    [Fact]
    public void Labels_and_file_names_with_escape_sequences_print_inert_everywhere()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var label = "evil\u001b]0;owned\u0007\u001b[2J\n\tx";
        var data = Dataset(dir.File("data"), [label, "plain"]);
        var badName = Path.Combine(data, "plain", "bad\u001b[2J\n\tname.jpg");
        File.WriteAllText(badName, "<html>not an image</html>");
        var model = dir.File("out/model.zip");

        var train = CliTests.EffnetWithin(Limit, home, "train", "--data", data, "--out", model, "--random-init", "--trainer", "lbfgs");
        AssertOk(train);
        AssertInert(train.Out, "train's tables");
        AssertInert(train.Err, "train's warnings");
        Assert.Contains(@"evil\x1b]0;owned\x07\x1b[2J\n\tx", train.Out);
        Assert.Contains(@"bad\x1b[2J\n\tname.jpg", Flat(train.Err));
        var report = File.ReadAllLines(dir.File("out/model.bad-images.tsv"));
        Assert.Equal(2, report.Length);
        Assert.Equal(2, report[1].Split('\t').Length);

        var images = Directory.GetFiles(Path.Combine(data, label)).Take(2).ToArray();
        var predict = CliTests.EffnetWithin(Limit, home, ["predict", "--model", model, .. images, badName]);
        AssertOk(predict);
        AssertInert(predict.Out, "predict's table");
        AssertInert(predict.Err, "predict's warnings");
        Assert.Contains(@"\x1b]0;owned", predict.Out);

        var json = CliTests.EffnetWithin(Limit, home, ["predict", "--model", model, "--json", .. images]);
        AssertOk(json);
        AssertInert(json.Out, "predict's JSON");
        var labels = JsonDocument.Parse(json.Out).RootElement.EnumerateArray()
            .SelectMany(r => r.GetProperty("scores").EnumerateArray().Select(s => s.GetProperty("label").GetString())).ToList();
        Assert.Contains(label, labels); // JSON escapes the label and gives it back whole
    }

    private static void AssertRefusedInOneLine((int Code, string Out, string Err) run, string file, string problem)
    {
        Assert.True(run.Code == 3, $"exit {run.Code}: {run.Err}");
        Assert.DoesNotContain("   at ", run.Err);
        Assert.Single(Regex.Matches(run.Err, "error:"));
        Assert.Contains(file, Flat(run.Err));
        Assert.Contains(problem, Flat(run.Err));
    }

    // The mutations (SavedModel without ModelArchive.Check, ModelReport.Load without ModelReportCheck) were run on HostileModelTests;
    // this test shows each command turns the refusal into one line and exit 3.
    [Fact]
    public void A_forged_model_zip_or_model_json_ends_every_command_with_one_line_and_exit_3()
    {
        using var dir = new TempDir();
        var home = dir.File("home");
        var data = Dataset(dir.File("data"), ["discs", "stripes"]);
        var model = dir.File("good/model.zip");
        AssertOk(CliTests.EffnetWithin(Limit, home, "train", "--data", data, "--out", model, "--random-init", "--trainer", "lbfgs", "--quiet"));
        var image = Directory.GetFiles(Path.Combine(data, "discs"))[0];

        // model.json with a forged variant: retrain stops before any work; a forged resize: predict stops too.
        var forgedVariant = dir.File("variant/model.zip");
        Directory.CreateDirectory(dir.File("variant"));
        File.Copy(model, forgedVariant);
        File.WriteAllText(dir.File("variant/model.json"), File.ReadAllText(dir.File("good/model.json")).Replace("\"variant\": \"b0\"", "\"variant\": \"b999999\""));
        AssertRefusedInOneLine(CliTests.EffnetWithin(Limit, home, "retrain", "--model", forgedVariant, "--data", data, "--quiet"), "model.json", "settings.variant 'b999999' is not a variant");
        var forgedSize = dir.File("size/model.zip");
        Directory.CreateDirectory(dir.File("size"));
        File.Copy(model, forgedSize);
        File.WriteAllText(dir.File("size/model.json"), File.ReadAllText(dir.File("good/model.json")).Replace("\"resizeSize\": 256", "\"resizeSize\": 100000"));
        AssertRefusedInOneLine(CliTests.EffnetWithin(Limit, home, "predict", "--model", forgedSize, image), "model.json", "backbone.resizeSize is 100000");
        AssertRefusedInOneLine(CliTests.EffnetWithin(Limit, home, "evaluate", "--model", forgedSize, "--data", data), "model.json", "backbone.resizeSize is 100000");

        // model.zip whose ONNX entry inflates 400 MB from a few hundred KB: refused before it is inflated.
        var bomb = dir.File("bomb/model.zip");
        Directory.CreateDirectory(dir.File("bomb"));
        File.Copy(dir.File("good/model.json"), dir.File("bomb/model.json"));
        using (var good = ZipFile.OpenRead(model))
        using (var crafted = ZipFile.Open(bomb, ZipArchiveMode.Create))
        {
            foreach (var entry in good.Entries)
            {
                using var target = crafted.CreateEntry(entry.FullName).Open();
                if (entry.Name == "OnnxModel")
                {
                    var zeros = new byte[1 << 20];
                    for (var i = 0; i < 400; i++) target.Write(zeros);
                }
                else
                {
                    using var source = entry.Open();
                    source.CopyTo(target);
                }
            }
        }
        Assert.True(new FileInfo(bomb).Length < 2_000_000);
        AssertRefusedInOneLine(CliTests.EffnetWithin(Limit, home, "predict", "--model", bomb, image), "bomb/model.zip", "zip bomb");
        AssertRefusedInOneLine(CliTests.EffnetWithin(Limit, home, "evaluate", "--model", bomb, "--data", data), "bomb/model.zip", "zip bomb");
    }

    // The mutation (the FeatureCache constructor letting the IOException escape) was run on FeatureCacheFaultTests; this is the command line.
    [Fact]
    public void Featurize_with_an_unusable_feature_cache_warns_once_and_writes_the_same_features()
    {
        using var dir = new TempDir();
        var data = Dataset(dir.File("data"), ["discs", "stripes"], perLabel: 2);
        var fresh = dir.File("fresh.csv");
        AssertOk(CliTests.EffnetWithin(Limit, dir.File("home1"), "featurize", "--data", data, "--out", fresh, "--random-init"));

        var home = dir.File("home2");
        Directory.CreateDirectory(Path.Combine(home, "features", "features.v1.sqlite"));
        var blocked = dir.File("blocked.csv");
        var run = CliTests.EffnetWithin(Limit, home, "featurize", "--data", data, "--out", blocked, "--random-init");

        AssertOk(run);
        Assert.Single(Regex.Matches(run.Err, "warning:"));
        Assert.Contains("features.v1.sqlite' cannot be used", Flat(run.Err));
        Assert.Equal(File.ReadAllText(fresh), File.ReadAllText(blocked));
    }
}
