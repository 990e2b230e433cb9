using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Hostile checkpoints of a few kilobytes that describe gigabytes, written byte by byte the
/// way torch.save and the safetensors library lay files out (a pickle with
/// <c>_rebuild_tensor_v2</c> and persistent ids in a zip; a JSON header before raw data).
/// Each case names the problem the reader must report.
/// </summary>
internal static class CraftedCheckpoints
{
    /// <summary>Case name → (file name, the words the refusal must contain).</summary>
    public static readonly IReadOnlyDictionary<string, (string File, string Problem)> Cases = new Dictionary<string, (string, string)>
    {
        // zeros(1).expand(400_000_000) under ten torchvision names: 16 GB of floats from 4 stored bytes each.
        ["expand"] = ("expand.pth", "stride 0"),
        // The right shape for B0's stem, but every element the same stored float.
        ["expand-right-shape"] = ("expand-right-shape.pth", "stride 0"),
        // as_strided((10000, 10000), (1, 1)) over 20,000 floats: 100 M values from 80 KB.
        ["self-overlap"] = ("self-overlap.pth", "overlapping view"),
        // 400 tensors that are all the same 1 MB storage (deflated to about 1 KB).
        ["shared-storage"] = ("shared-storage.pth", "views of the same bytes"),
        // data.pkl inflating to 300 MB of zeros.
        ["pickle-bomb"] = ("pickle-bomb.pth", "data.pkl"),
        // A 15 MB data.pkl (15 KB deflated) of '}' opcodes: 15 million empty dicts.
        ["pickle-objects"] = ("pickle-objects.pth", "opcodes"),
        // features.0.0.weight as a plain 64 M-float tensor whose 256 MB storage deflates to 250 KB.
        ["huge-tensor"] = ("huge-tensor.pth", "expects [32, 3, 3, 3]"),
        // 400 entries whose data_offsets all name the same 1 MB.
        ["safetensors-overlap"] = ("overlap.safetensors", "overlap"),
        // One name twice, on different bytes.
        ["safetensors-duplicate"] = ("duplicate.safetensors", "named twice"),
        // 100 storages of their own in the pickle, but the zip directory points every one at the first's deflated 1 MB.
        // Mutation: PthCheckpointReader.Open without CheckEntriesDisjoint -> 100 MB read and accepted: fails.
        ["aliased-entries"] = ("aliased-entries.pth", "point at the same bytes"),
        // Shape [2^30, 2^30, 2] of F64: 2^64 bytes, which wraps to the 0 bytes its offsets span.
        // Mutation: the byte count in 64-bit unchecked arithmetic (as before) -> accepted, then an OverflowException: fails.
        ["safetensors-wrap"] = ("wrap.safetensors", "more than the 0 data bytes"),
    };

    public static string Write(string directory, string name)
    {
        var path = Path.Combine(directory, Cases[name].File);
        switch (name)
        {
            case "expand":
                WritePth(path, Enumerable.Range(0, 10).Select(i => new Tensor($"features.{i}.0.weight", $"{i}", 0, [400_000_000], [0])).ToArray(),
                    Enumerable.Range(0, 10).ToDictionary(i => $"{i}", _ => Storage.Stored(4)));
                break;
            case "expand-right-shape":
                WritePth(path, [new Tensor("features.0.0.weight", "0", 0, [32, 3, 3, 3], [0, 0, 0, 0])], new() { ["0"] = Storage.Stored(4) });
                break;
            case "self-overlap":
                WritePth(path, [new Tensor("features.0.0.weight", "0", 0, [10_000, 10_000], [1, 1]), new Tensor("features.0.1.weight", "1", 0, [10_000, 10_000], [1, 1])],
                    new() { ["0"] = Storage.Deflated(80_000), ["1"] = Storage.Deflated(80_000) });
                break;
            case "shared-storage":
                WritePth(path, Enumerable.Range(0, 400).Select(i => new Tensor($"features.{i}.0.weight", "0", 0, [250_000], [1])).ToArray(),
                    new() { ["0"] = Storage.Deflated(1_000_000) });
                break;
            case "pickle-bomb":
                using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
                {
                    using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.SmallestSize).Open()) WriteZeros(s, 300L << 20);
                    using (var s = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open()) s.Write("3\n"u8);
                }
                break;
            case "pickle-objects":
                using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
                {
                    using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.SmallestSize).Open())
                    {
                        s.Write([0x80, 2]);
                        var dicts = new byte[1 << 20];
                        Array.Fill(dicts, (byte)'}');
                        for (var i = 0; i < 15; i++) s.Write(dicts);
                    }
                    using (var s = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open()) s.Write("3\n"u8);
                }
                break;
            case "huge-tensor":
                WritePth(path, [new Tensor("features.0.0.weight", "0", 0, [64 << 20], [1])], new() { ["0"] = Storage.Deflated(256L << 20) });
                break;
            case "safetensors-overlap":
                WriteSafetensors(path, Enumerable.Range(0, 400).Select(i => ($"features.{i}.0.weight", 250_000L, 0L, 1_000_000L)).ToArray(), 1_000_000);
                break;
            case "safetensors-duplicate":
                WriteSafetensors(path, [("features.0.0.weight", 864L, 0L, 3456L), ("features.0.0.weight", 864L, 3456L, 6912L)], 6912);
                break;
            case "aliased-entries":
                WritePth(path, Enumerable.Range(0, 100).Select(i => new Tensor($"features.{i}.0.weight", $"{i}", 0, [250_000], [1])).ToArray(),
                    Enumerable.Range(0, 100).ToDictionary(i => $"{i}", _ => Storage.Deflated(1_000_000)));
                PointEntriesAtOne(path, "archive/data/", "archive/data/0");
                break;
            case "safetensors-wrap":
                WriteHeaderOnly(path, "{\"features.0.0.weight\":{\"dtype\":\"F64\",\"shape\":[1073741824,1073741824,2],\"data_offsets\":[0,0]}}");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
        return path;
    }

    /// <summary>One tensor: a view (offset, size, stride) into the storage with key <paramref name="Storage"/>.</summary>
    public sealed record Tensor(string Name, string Storage, long Offset, long[] Size, long[] Stride);

    /// <summary>A float32 storage of zeros, stored raw or deflated.</summary>
    public sealed record Storage(long Bytes, bool Deflate)
    {
        public static Storage Stored(long bytes) => new(bytes, false);

        public static Storage Deflated(long bytes) => new(bytes, true);
    }

    public static void WritePth(string path, IReadOnlyList<Tensor> tensors, Dictionary<string, Storage> storages)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) s.Write(StateDictPickle(tensors, storages));
        foreach (var (key, storage) in storages)
        {
            using var s = zip.CreateEntry("archive/data/" + key, storage.Deflate ? CompressionLevel.SmallestSize : CompressionLevel.NoCompression).Open();
            WriteZeros(s, storage.Bytes);
        }
        using (var s = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open()) s.Write("3\n"u8);
    }

    // Protocol 2, as torch.save writes: OrderedDict() then SETITEM of name → _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
    private static byte[] StateDictPickle(IReadOnlyList<Tensor> tensors, Dictionary<string, Storage> storages)
    {
        var p = new List<byte> { 0x80, 2 };
        void Op(char c) => p.Add((byte)c);
        void Global(string module, string name) { Op('c'); p.AddRange(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }
        void Str(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Op('X');
            p.AddRange(BitConverter.GetBytes(bytes.Length));
            p.AddRange(bytes);
        }
        void Int(long v) { Op('J'); p.AddRange(BitConverter.GetBytes(checked((int)v))); }
        void Tuple(IEnumerable<long> values) { Op('('); foreach (var v in values) Int(v); Op('t'); }
        void NewOrderedDict() { Global("collections", "OrderedDict"); Op(')'); Op('R'); }

        NewOrderedDict();
        foreach (var t in tensors)
        {
            Str(t.Name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(');
            Op('('); Str("storage"); Global("torch", "FloatStorage"); Str(t.Storage); Str("cpu"); Int(storages[t.Storage].Bytes / 4); Op('t'); Op('Q');
            Int(t.Offset);
            Tuple(t.Size);
            Tuple(t.Stride);
            p.Add(0x89);
            NewOrderedDict();
            Op('t');
            Op('R');
            Op('s');
        }
        Op('.');
        return [.. p];
    }

    private static void WriteSafetensors(string path, (string Name, long Elements, long Begin, long End)[] tensors, long dataBytes)
    {
        var header = "{" + string.Join(",", tensors.Select(t => $"\"{t.Name}\":{{\"dtype\":\"F32\",\"shape\":[{t.Elements}],\"data_offsets\":[{t.Begin},{t.End}]}}")) + "}";
        var headerBytes = Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
        file.Write(length);
        file.Write(headerBytes);
        WriteZeros(file, dataBytes);
    }

    private static void WriteHeaderOnly(string path, string header)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
        file.Write(length);
        file.Write(headerBytes);
    }

    // Rewrites the central directory so every entry under prefix names target's local header:
    // entries stay distinct by name, but all read the same stored bytes.
    private static void PointEntriesAtOne(string path, string prefix, string target)
    {
        var bytes = File.ReadAllBytes(path);
        var end = bytes.Length - 22;
        while (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end)) != 0x06054b50) end--;
        int count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(end + 10));
        var at = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end + 16));
        var entries = new List<(string Name, int OffsetField)>();
        for (var i = 0; i < count; i++)
        {
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 28));
            int rest = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 30)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 32));
            entries.Add((Encoding.UTF8.GetString(bytes, at + 46, nameLength), at + 42));
            at += 46 + nameLength + rest;
        }
        var targetOffset = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(entries.Single(e => e.Name == target).OffsetField));
        foreach (var (name, field) in entries.Where(e => e.Name.StartsWith(prefix, StringComparison.Ordinal)))
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(field), targetOffset);
        File.WriteAllBytes(path, bytes);
    }

    private static void WriteZeros(Stream s, long bytes)
    {
        var chunk = new byte[1 << 20];
        for (var left = bytes; left > 0; left -= chunk.Length) s.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
    }
}
