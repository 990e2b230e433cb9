namespace EffNet.MLNet.Tests;

public class AtomicFileTests
{
    private static string[] Leftovers(string folder) => Directory.GetFiles(folder).Where(f => Path.GetFileName(f).StartsWith('.')).ToArray();

    [Fact]
    public void The_temporary_file_is_private_while_written_and_the_result_is_as_readable_as_any_new_file()
    {
        using var dir = new TempDir();
        var target = Path.Combine(dir.Path, "new", "folder", "model.json");
        UnixFileMode? whileWriting = null;
        AtomicFile.Write(target, stream =>
        {
            var temp = Assert.Single(Leftovers(Path.GetDirectoryName(target)!));
            if (!OperatingSystem.IsWindows()) whileWriting = File.GetUnixFileMode(temp);
            stream.Write("{}"u8);
        });
        Assert.Equal("{}", File.ReadAllText(target));
        Assert.Empty(Leftovers(Path.GetDirectoryName(target)!));
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, whileWriting);
        File.WriteAllText(dir.File("plain.txt"), "");
        Assert.Equal(File.GetUnixFileMode(dir.File("plain.txt")), File.GetUnixFileMode(target));
    }

    [Fact]
    public void A_failed_write_leaves_the_old_file_whole_and_no_temporary_file()
    {
        using var dir = new TempDir();
        var target = dir.File("model.zip");
        File.WriteAllText(target, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, stream =>
        {
            stream.Write("half of the new"u8);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(target));
        Assert.Empty(Leftovers(dir.Path));

        Assert.Throws<IOException>(() => AtomicFile.WriteAllText(target, "new", overwrite: false));
        Assert.Equal("old", File.ReadAllText(target));
        Assert.Empty(Leftovers(dir.Path));
        AtomicFile.WriteAllText(target, "new");
        Assert.Equal("new", File.ReadAllText(target));
    }
}
