using System.Diagnostics;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Tests;

/// <summary>
/// A data folder lists regular files only: symbolic links to folders are not followed, a link to
/// a file counts only when the file lies inside the folder, and FIFOs, devices and sockets are
/// named as bad images without ever being opened.
/// </summary>
public class DataFolderTests
{
    private static string Dataset(string folder)
    {
        foreach (var label in new[] { "discs", "stripes" })
        {
            Directory.CreateDirectory(Path.Combine(folder, label));
            foreach (var f in Directory.GetFiles(Path.Combine(SampleData.Folder, label)).Order().Take(4))
                File.Copy(f, Path.Combine(folder, label, Path.GetFileName(f)));
        }
        return folder;
    }

    internal static void MakeFifo(string path)
    {
        var made = ProcessRunner.Run("mkfifo", [path]);
        Assert.True(made.Code == 0, made.Err);
    }

    // Mutation: ImagesBelow pushes a symbolic link to a folder like a real one -> 8 rows become dozens, stripes relabelled discs: fails.
    [Fact]
    public void A_symlink_loop_in_a_label_folder_changes_no_row()
    {
        using var dir = new TempDir();
        var data = Dataset(dir.File("data"));
        var before = ImageDataset.Load(data);
        Directory.CreateSymbolicLink(Path.Combine(data, "discs", "loop"), "..");
        Directory.CreateSymbolicLink(Path.Combine(data, "linked-label"), Path.Combine(data, "stripes"));

        var skipped = new List<BadImage>();
        var after = ImageDataset.Load(data, requireLabels: true, skipped);

        Assert.Equal(before.Select(r => (r.ImagePath, r.Label)), after.Select(r => (r.ImagePath, r.Label)));
        Assert.Equal(8, after.Count);
        Assert.Contains(skipped, s => s.ImagePath.EndsWith("loop", StringComparison.Ordinal) && s.Reason.Contains("not followed"));
        Assert.Contains(skipped, s => s.ImagePath.EndsWith("linked-label", StringComparison.Ordinal));
        Assert.Equal(8, ImageDataset.ImageFiles(data, null).Count);
    }

    // A notebook's checkpoint copy (.ipynb_checkpoints) or a .git folder is not a class, and a hidden folder inside a
    // label holds no images of it; each is named as skipped.
    // Mutation: FromFolder without its IsHidden check -> fails (a '.ipynb_checkpoints' label).
    // Mutation: ImagesBelow pushes hidden folders -> fails (10 rows).
    [Fact]
    public void Hidden_folders_are_neither_labels_nor_searched_and_each_is_named()
    {
        using var dir = new TempDir();
        var data = Dataset(dir.File("data"));
        var image = Directory.GetFiles(Path.Combine(data, "discs")).Order().First();
        Directory.CreateDirectory(Path.Combine(data, ".ipynb_checkpoints"));
        File.Copy(image, Path.Combine(data, ".ipynb_checkpoints", "copy.jpg"));
        Directory.CreateDirectory(Path.Combine(data, "discs", ".thumbnails"));
        File.Copy(image, Path.Combine(data, "discs", ".thumbnails", "small.jpg"));

        var skipped = new List<BadImage>();
        var rows = ImageDataset.Load(data, requireLabels: true, skipped);

        Assert.Equal(["discs", "stripes"], rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(8, rows.Count);
        Assert.Contains(skipped, s => s.ImagePath.EndsWith(".ipynb_checkpoints", StringComparison.Ordinal) && s.Reason.Contains("hidden folder", StringComparison.Ordinal));
        Assert.Contains(skipped, s => s.ImagePath.EndsWith(".thumbnails", StringComparison.Ordinal));
    }

    // A single-label manifest names each image once with one label: an empty label would be a class '', and an image
    // listed twice would count twice or under two labels. Each is refused naming the file and the line.
    // Mutation: FromManifest without the empty-label check -> fails (a class '').
    // Mutation: FromManifest without the listed-twice check -> fails (the image counted under both labels).
    [Theory]
    [InlineData("discs/{0},discs\n{1},", "line 2: '{1}' has no label.")]
    [InlineData("discs/{0},discs\n./discs/{0},stripes", "line 2: './discs/{0}' is already listed on line 1; list each image once.")]
    public void A_manifest_row_without_a_label_or_an_image_listed_twice_is_refused_by_line(string rows, string expected)
    {
        using var dir = new TempDir();
        var data = Dataset(dir.File("data"));
        var image = Path.GetFileName(Directory.GetFiles(Path.Combine(data, "discs")).Order().First());
        var other = "stripes/" + Path.GetFileName(Directory.GetFiles(Path.Combine(data, "stripes")).Order().First());
        var manifest = Path.Combine(data, "train.csv");
        File.WriteAllText(manifest, string.Format(System.Globalization.CultureInfo.InvariantCulture, rows, image, other));
        var error = Assert.Throws<InvalidDataException>(() => ImageDataset.Load(manifest));
        Assert.Equal($"'{manifest}' " + string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, image, other), error.Message);
        // Unlabelled (featurize, predict), the same rows are read: there a label is not needed.
        Assert.NotEmpty(ImageDataset.Load(manifest, requireLabels: false));
    }

    // Mutation: drop the IsInside check -> the link to a file outside the data folder is listed: fails.
    [Fact]
    public void A_link_to_a_file_is_kept_inside_the_folder_and_skipped_outside_it()
    {
        using var dir = new TempDir();
        var data = Dataset(dir.File("data"));
        var inside = Directory.GetFiles(Path.Combine(data, "discs")).Order().First();
        var outside = dir.File("secret.jpg");
        File.Copy(inside, outside);
        File.CreateSymbolicLink(Path.Combine(data, "stripes", "again.jpg"), inside);
        File.CreateSymbolicLink(Path.Combine(data, "stripes", "secret.jpg"), outside);

        var skipped = new List<BadImage>();
        var rows = ImageDataset.Load(data, requireLabels: true, skipped);

        Assert.Contains(rows, r => r.ImagePath.EndsWith("again.jpg", StringComparison.Ordinal) && r.Label == "stripes");
        Assert.DoesNotContain(rows, r => r.ImagePath.EndsWith("secret.jpg", StringComparison.Ordinal));
        var named = Assert.Single(skipped);
        Assert.Contains("outside the data folder", named.Reason);
    }

    // Mutation: OpenedImage.WithFile opens the file without asking FileKind first -> the check blocks on the FIFO: fails (timeout).
    [Fact]
    public void A_fifo_named_like_an_image_is_listed_and_named_bad_without_being_opened()
    {
        using var dir = new TempDir();
        var data = Dataset(dir.File("data"));
        var fifo = Path.Combine(data, "discs", "x.jpg");
        MakeFifo(fifo);
        Assert.Equal(FileKind.Kind.Fifo, FileKind.Of(fifo));

        var rows = ImageDataset.Load(data);
        Assert.Contains(rows, r => r.ImagePath == fifo);
        var clock = Stopwatch.StartNew();
        var check = Task.Run(() => (Header: ImageCheck.HeaderProblem(fifo), Full: ImageCheck.Inspect(fifo)));
        Assert.True(check.Wait(TimeSpan.FromSeconds(10)), "checking a FIFO blocked (it was opened)");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal("is a FIFO (named pipe), not a regular file; it was not opened", check.Result.Header);
        Assert.Equal(check.Result.Header, check.Result.Full!.Reason);
        Assert.Equal("is a character device, not a regular file; it was not opened", ImageCheck.HeaderProblem("/dev/zero"));
    }
}
