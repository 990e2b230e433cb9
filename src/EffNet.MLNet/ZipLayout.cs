using System.Buffers.Binary;
using System.Text;

namespace EffNet.MLNet;

/// <summary>Where one zip entry's data lies in the file, as its central directory and local header say.</summary>
internal sealed record ZipEntrySpan(string Name, long DataStart, long CompressedLength, long Length)
{
    public long DataEnd => DataStart + CompressedLength;
}

/// <summary>
/// Reads a zip's central directory and local headers without inflating anything, so a reader
/// can see what <see cref="System.IO.Compression.ZipArchive"/> does not show: where each
/// entry's bytes are. Two entries whose data ranges overlap are one stored block read twice
/// (or more), which no zip writer produces.
/// </summary>
internal static class ZipLayout
{
    private const uint EndOfDirectory = 0x06054b50;
    private const uint Zip64Locator = 0x07064b50;
    private const uint Zip64EndOfDirectory = 0x06064b50;
    private const uint DirectoryEntry = 0x02014b50;
    private const uint LocalHeader = 0x04034b50;
    private const int MaxEntries = 1_000_000;

    /// <summary>Every entry's span, in directory order.</summary>
    /// <exception cref="InvalidDataException">The directory or a local header is malformed.</exception>
    public static IReadOnlyList<ZipEntrySpan> Read(Stream file)
    {
        var (count, directoryOffset, directorySize) = FindDirectory(file);
        if (count > MaxEntries) throw new InvalidDataException($"the zip directory lists {count:N0} entries");
        if (directoryOffset < 0 || directorySize < 0 || directoryOffset > file.Length - directorySize)
            throw new InvalidDataException("the zip directory lies outside the file");
        var directory = ReadAt(file, directoryOffset, checked((int)directorySize));
        var spans = new List<ZipEntrySpan>((int)count);
        var at = 0;
        for (long i = 0; i < count; i++)
        {
            var entry = directory.AsSpan(at);
            if (entry.Length < 46 || BinaryPrimitives.ReadUInt32LittleEndian(entry) != DirectoryEntry)
                throw new InvalidDataException($"zip directory entry {i} is malformed");
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(entry[20..]);
            long length = BinaryPrimitives.ReadUInt32LittleEndian(entry[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[32..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(entry[42..]);
            if (entry.Length < 46 + nameLength + extraLength + commentLength)
                throw new InvalidDataException($"zip directory entry {i} runs past the directory");
            var name = Encoding.UTF8.GetString(entry.Slice(46, nameLength));
            ApplyZip64(entry.Slice(46 + nameLength, extraLength), ref length, ref compressed, ref offset);
            spans.Add(new ZipEntrySpan(name, DataStart(file, offset, name), compressed, length));
            at += 46 + nameLength + extraLength + commentLength;
        }
        return spans;
    }

    /// <summary>The first two entries whose data ranges share bytes, or null when none do.</summary>
    public static (ZipEntrySpan First, ZipEntrySpan Second)? FindOverlap(IEnumerable<ZipEntrySpan> spans)
    {
        ZipEntrySpan? previous = null;
        foreach (var span in spans.OrderBy(s => s.DataStart).ThenBy(s => s.DataEnd))
        {
            // Local headers are at least 30 bytes, so two entries can never start at one place legitimately, even empty ones.
            if (previous is not null && (span.DataStart < previous.DataEnd || span.DataStart == previous.DataStart))
                return (previous, span);
            previous = span;
        }
        return null;
    }

    private static (long Count, long Offset, long Size) FindDirectory(Stream file)
    {
        var tailLength = (int)Math.Min(file.Length, 22 + ushort.MaxValue);
        var tailStart = file.Length - tailLength;
        var tail = ReadAt(file, tailStart, tailLength);
        for (var i = tailLength - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) != EndOfDirectory) continue;
            var end = tail.AsSpan(i);
            long count = BinaryPrimitives.ReadUInt16LittleEndian(end[10..]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(end[12..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(end[16..]);
            if (i >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i - 20)) == Zip64Locator)
            {
                var recordAt = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(i - 20 + 8));
                if (recordAt < 0 || recordAt > file.Length - 56) throw new InvalidDataException("the zip64 directory record lies outside the file");
                var record = ReadAt(file, recordAt, 56);
                if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndOfDirectory) throw new InvalidDataException("the zip64 directory record is malformed");
                count = (long)BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(32));
                size = (long)BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(40));
                offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(48));
            }
            return (count, offset, size);
        }
        throw new InvalidDataException("no zip end-of-directory record");
    }

    // A zip64 extra field carries, in this order, only the fields whose 32-bit slots are saturated.
    private static void ApplyZip64(ReadOnlySpan<byte> extra, ref long length, ref long compressed, ref long offset)
    {
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (extra.Length < 4 + size) throw new InvalidDataException("a zip extra field runs past its entry");
            if (id == 1)
            {
                var field = extra.Slice(4, size);
                long Next(ref ReadOnlySpan<byte> f)
                {
                    if (f.Length < 8) throw new InvalidDataException("a zip64 extra field is too short");
                    var v = (long)BinaryPrimitives.ReadUInt64LittleEndian(f);
                    f = f[8..];
                    return v;
                }
                if (length == uint.MaxValue) length = Next(ref field);
                if (compressed == uint.MaxValue) compressed = Next(ref field);
                if (offset == uint.MaxValue) offset = Next(ref field);
            }
            extra = extra[(4 + size)..];
        }
        if (length < 0 || compressed < 0 || offset < 0) throw new InvalidDataException("a zip64 size or offset is negative");
    }

    private static long DataStart(Stream file, long offset, string name)
    {
        if (offset > file.Length - 30) throw new InvalidDataException($"zip entry '{name}' starts past the end of the file");
        var header = ReadAt(file, offset, 30);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalHeader)
            throw new InvalidDataException($"zip entry '{name}' does not point at a local header");
        return offset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28));
    }

    private static byte[] ReadAt(Stream file, long offset, int count)
    {
        var buffer = new byte[count];
        file.Position = offset;
        file.ReadExactly(buffer);
        file.Position = 0;
        return buffer;
    }
}
