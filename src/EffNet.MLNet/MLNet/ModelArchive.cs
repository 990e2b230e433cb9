using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using EffNet.MLNet.Onnx;

namespace EffNet.MLNet;

/// <summary>
/// Checks a saved model's zip before ML.NET inflates any of it. A model.zip is untrusted input:
/// its directory declares how much each entry inflates to, and ML.NET would allocate that much;
/// an embedded ONNX may point at data in another file, which ONNX Runtime would read from the
/// temp folder ML.NET writes the ONNX to. The budget: at most <see cref="MaxEntries"/> entries,
/// none over <see cref="MaxEntryBytes"/> inflated, <see cref="MaxTotalBytes"/> in all, and no
/// entry over 1 MiB inflating more than <see cref="MaxRatio"/> times its compressed size (real
/// weights compress less than 2:1). EfficientNet-B7's model.zip is about 270 MB inflated.
/// </summary>
internal static class ModelArchive
{
    public const int MaxEntries = 4096;
    public const long MaxEntryBytes = 1L << 30;
    public const long MaxTotalBytes = 3L << 29;
    public const int MaxRatio = 100;
    private const long RatioFloorBytes = 1L << 20;

    /// <summary>Check the archive in <paramref name="stream"/> (a seekable stream at its start, left there).</summary>
    /// <exception cref="InvalidDataException">The archive is over the budget, malformed, or embeds an ONNX with external data; the message names <paramref name="path"/> and the entry.</exception>
    public static void Check(Stream stream, string path)
    {
        if (!stream.CanSeek) return;
        var start = stream.Position;
        try
        {
            IReadOnlyList<ZipEntrySpan> spans;
            try { spans = ZipLayout.Read(stream); }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or OverflowException)
            {
                throw Refuse(path, $"is not a readable ML.NET model (its zip directory is corrupt: {ex.Message})");
            }
            if (spans.Count > MaxEntries)
                throw Refuse(path, $"has {spans.Count:N0} zip entries, more than the {MaxEntries:N0} a model can need");
            long total = 0;
            foreach (var e in spans)
            {
                if (e.Length > MaxEntryBytes)
                    throw Refuse(path, $"entry '{InertText.Name(e.Name)}' declares {e.Length:N0} bytes inflated, over the {MaxEntryBytes:N0}-byte limit for one entry");
                if (e.Length > RatioFloorBytes && e.Length / Math.Max(e.CompressedLength, 1) > MaxRatio)
                    throw Refuse(path, $"entry '{InertText.Name(e.Name)}' inflates {e.CompressedLength:N0} bytes to {e.Length:N0} (more than {MaxRatio}:1, a zip bomb?)");
                total += e.Length;
                if (total > MaxTotalBytes)
                    throw Refuse(path, $"entry '{InertText.Name(e.Name)}' takes the inflated total past the {MaxTotalBytes:N0}-byte limit for a model");
            }
            if (ZipLayout.FindOverlap(spans) is var (first, second))
                throw Refuse(path, $"entries '{InertText.Name(first.Name)}' and '{InertText.Name(second.Name)}' point at the same bytes (the zip is corrupt or crafted)");
            stream.Position = start;
            CheckEmbeddedOnnx(stream, path);
        }
        finally
        {
            stream.Position = start;
        }
    }

    // ML.NET stores an ONNX transform's model as an entry named OnnxModel: a 32-bit length, then the ONNX bytes.
    private static void CheckEmbeddedOnnx(Stream stream, string path)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        Span<byte> prefix = stackalloc byte[4];
        foreach (var entry in zip.Entries.Where(e => e.Name == "OnnxModel"))
        {
            using var inflated = new BufferedStream(entry.Open(), 1 << 16);
            string? external;
            try
            {
                inflated.ReadExactly(prefix);
                var length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
                if (length < 0 || length > entry.Length - 4)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"it declares {length:N0} bytes of ONNX in {entry.Length - 4:N0}"));
                external = OnnxExternalData.FirstExternalTensor(inflated, length);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
            {
                throw Refuse(path, $"entry '{InertText.Name(entry.FullName)}' is not a readable ONNX model ({ex.Message})");
            }
            if (external is not null)
                throw Refuse(path, $"entry '{InertText.Name(entry.FullName)}' is an ONNX model whose tensor '{InertText.Name(external)}' keeps its data in another file, which a saved model never does; refusing it rather than let ONNX Runtime read files from the temp folder");
        }
    }

    private static InvalidDataException Refuse(string path, string problem) => new($"'{path}' {problem}.");
}
