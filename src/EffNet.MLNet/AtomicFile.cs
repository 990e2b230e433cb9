namespace EffNet.MLNet;

/// <summary>
/// Writes a file so that readers see the old content or the new, never half of either: the data
/// goes to a temporary file in the same folder (readable by the owner only while it is being
/// written), which is then renamed over the target. The temporary file is deleted whatever
/// happens, short of the process being killed.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Write <paramref name="path"/> with <paramref name="write"/>; its folder is created if missing.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="write">Writes the whole content to the stream it is given.</param>
    /// <param name="overwrite">Replace an existing file; when false an existing file is an <see cref="IOException"/> and is left untouched.</param>
    public static void Write(string path, Action<Stream> write, bool overwrite = true)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        if (!overwrite && File.Exists(full)) throw new IOException($"'{full}' already exists.");
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, CreateOptions()))
            {
                write(stream);
                if (stream.CanWrite) stream.Flush(flushToDisk: true); // some writers close the stream when done
            }
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, DefaultMode(folder));
            File.Move(temp, full, overwrite);
        }
        finally
        {
            File.Delete(temp); // gone already after a successful move
        }
    }

    /// <summary>Write <paramref name="lines"/> (UTF-8, one per line) to <paramref name="path"/>.</summary>
    public static void WriteAllLines(string path, IEnumerable<string> lines, bool overwrite = true) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            foreach (var line in lines) writer.WriteLine(line);
        }, overwrite);

    /// <summary>Write <paramref name="text"/> (UTF-8) to <paramref name="path"/>.</summary>
    public static void WriteAllText(string path, string text, bool overwrite = true) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        }, overwrite);

    private static FileStreamOptions CreateOptions()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    // The mode a plainly created file gets here (0666 less the umask), learnt from an empty probe
    // file: the finished output is as readable as any other file the user makes, while the
    // temporary file, which holds data before it is complete, never was.
    private static UnixFileMode DefaultMode(string folder)
    {
        if (OperatingSystem.IsWindows()) return default;
        var probe = Path.Combine(folder, $".effnet-mode-{Guid.NewGuid():N}.tmp");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write)) { }
            return File.GetUnixFileMode(probe);
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
