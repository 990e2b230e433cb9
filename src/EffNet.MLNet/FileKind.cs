using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EffNet.MLNet;

/// <summary>
/// What kind of file system entry a path is, found without opening it. Opening a FIFO blocks
/// until something writes to it and opening a device reads whatever it produces, so a reader of
/// images, models or manifests asks here first and opens only regular files.
/// </summary>
internal static class FileKind
{
    public enum Kind { Missing, Regular, Directory, SymbolicLink, Fifo, CharacterDevice, BlockDevice, Socket, Other }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;

    /// <summary>The kind of <paramref name="path"/> itself (a symbolic link is reported as one, not followed).</summary>
    public static Kind OfEntry(string path) => Find(path, follow: false);

    /// <summary>The kind of what <paramref name="path"/> names, following symbolic links.</summary>
    public static Kind Of(string path) => Find(path, follow: true);

    /// <summary>Null when <paramref name="path"/> is (or links to) a regular file; else why it must not be opened, as a phrase.</summary>
    public static string? NotRegular(string path) => Of(path) switch
    {
        Kind.Regular => null,
        Kind.Missing => "does not exist",
        Kind.Directory => "is a directory, not an image file",
        var k => $"is {Describe(k)}, not a regular file; it was not opened",
    };

    public static string Describe(Kind kind) => kind switch
    {
        Kind.Fifo => "a FIFO (named pipe)",
        Kind.CharacterDevice => "a character device",
        Kind.BlockDevice => "a block device",
        Kind.Socket => "a socket",
        Kind.SymbolicLink => "a symbolic link",
        Kind.Directory => "a directory",
        Kind.Regular => "a regular file",
        Kind.Missing => "missing",
        _ => "empty or a special file (a FIFO, device or socket)",
    };

    /// <summary>The absolute path with every symbolic link resolved, or null when it cannot be resolved (missing, a loop).</summary>
    public static string? RealPath(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                var resolved = realpath(path, IntPtr.Zero);
                if (resolved == IntPtr.Zero) return null;
                try { return Marshal.PtrToStringUTF8(resolved); }
                finally { free(resolved); }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException) { }
        }
        try { return File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path); }
        catch (IOException) { return null; }
    }

    private static Kind Find(string path, bool follow)
    {
        if (OperatingSystem.IsLinux() && Statx(path, follow) is { } mode) return FromMode(mode);
        return Portable(path, follow);
    }

    // statx has one layout on every Linux architecture (unlike struct stat), so it can be called directly.
    private static int? Statx(string path, bool follow)
    {
        var buffer = new byte[256];
        try
        {
            if (statx(AtFdCwd, path, follow ? 0 : AtSymlinkNoFollow, StatxType, buffer) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                // ENOENT, ENOTDIR, ELOOP: there is nothing there to open.
                return errno is 2 or 20 or 40 ? -1 : null;
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        return BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28));
    }

    private static Kind FromMode(int mode) => mode < 0 ? Kind.Missing : (mode & 0xF000) switch
    {
        0x8000 => Kind.Regular,
        0x4000 => Kind.Directory,
        0xA000 => Kind.SymbolicLink,
        0x1000 => Kind.Fifo,
        0x2000 => Kind.CharacterDevice,
        0x6000 => Kind.BlockDevice,
        0xC000 => Kind.Socket,
        _ => Kind.Other,
    };

    // Without statx, .NET tells links and directories apart; a special file cannot be told from an
    // empty one, and neither is worth opening, so an empty non-directory counts as special.
    private static Kind Portable(string path, bool follow)
    {
        var info = new FileInfo(path);
        if (!follow && info.LinkTarget is not null) return Kind.SymbolicLink;
        if (Directory.Exists(path)) return Kind.Directory;
        if (!info.Exists) return Kind.Missing;
        return OperatingSystem.IsWindows() || info.Length > 0 ? Kind.Regular : Kind.Other;
    }

    // DllImport rather than LibraryImport: the generated stub would need unsafe code for one call.
#pragma warning disable SYSLIB1054, CA2101, CA1401
    [DllImport("libc", EntryPoint = "statx", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr realpath(string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void free(IntPtr pointer);
#pragma warning restore SYSLIB1054, CA2101, CA1401
}
