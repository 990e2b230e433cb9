using System.Buffers.Binary;
using System.Text.Json;

namespace EffNet.MLNet.Weights;

/// <summary>
/// Reads a <c>.safetensors</c> file: an 8-byte little-endian header length, a JSON header
/// mapping names to dtype, shape and byte offsets, then the raw data. Every length and
/// offset is checked against the file before anything is allocated, and, as the format
/// requires, no two tensors may name the same bytes or the same name.
/// </summary>
internal static class SafetensorsReader
{
    // The format allows 100 MB; an EfficientNet's header is about 100 KB, and parsing one costs several times its size.
    private const long MaxHeaderBytes = 16L * 1024 * 1024;

    /// <summary>Read every tensor of the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is malformed, or describes more than 1 GiB of tensor data.</exception>
    public static IReadOnlyDictionary<string, CheckpointTensor> Read(string path)
    {
        using var index = Open(path);
        return index.ReadAll(ReadBudget.Unplanned(path));
    }

    /// <summary>Read and check the header; no tensor data is read yet.</summary>
    internal static CheckpointIndex Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        var file = File.OpenRead(path);
        try
        {
            return Index.Create(path, file);
        }
        catch (Exception ex) when (IsHeaderProblem(ex))
        {
            file.Dispose();
            // A header that is JSON-shaped but not valid text, numbers that do not fit, and the like.
            throw new CheckpointFormatException(path, $"the safetensors header is corrupt ({ex.Message})", ex);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static bool IsHeaderProblem(Exception ex) =>
        ex is InvalidOperationException or JsonException or ArgumentException or EndOfStreamException or FormatException or OverflowException;

    private sealed record Located(TensorEntry Entry, long Begin, long End);

    private sealed class Index : CheckpointIndex
    {
        private readonly FileStream _file;
        private readonly long _dataStart;
        private readonly Dictionary<string, Located> _tensors;

        private Index(string path, FileStream file, long dataStart, Dictionary<string, Located> tensors) : base(path)
        {
            _file = file;
            _dataStart = dataStart;
            _tensors = tensors;
            Entries = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.Entry, StringComparer.Ordinal);
        }

        public override IReadOnlyDictionary<string, TensorEntry> Entries { get; }

        public static Index Create(string path, FileStream file)
        {
            var length = file.Length;
            if (length < 8) throw new CheckpointFormatException(path, $"the file is {length} bytes long, too short for a safetensors header.");
            Span<byte> prefix = stackalloc byte[8];
            file.ReadExactly(prefix);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)(length - 8))
                throw new CheckpointFormatException(path, $"the header claims {headerLength} bytes but the file has only {length - 8} after the length field (truncated or not safetensors).");
            if (headerLength > MaxHeaderBytes)
                throw new CheckpointFormatException(path, $"the header claims {headerLength:N0} bytes, over the {MaxHeaderBytes:N0} a checkpoint's header needs; refusing it before parsing.");

            var header = new byte[headerLength];
            file.ReadExactly(header);
            var dataStart = 8 + (long)headerLength;
            var dataLength = length - dataStart;

            var tensors = new Dictionary<string, Located>(StringComparer.Ordinal);
            JsonDocument doc;
            try { doc = JsonDocument.Parse(header); }
            catch (JsonException ex) { throw new CheckpointFormatException(path, $"the header is not valid JSON ({ex.Message})", ex); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new CheckpointFormatException(path, "the header is not a JSON object.");
                foreach (var property in doc.RootElement.EnumerateObject())
                {
                    if (property.Name == "__metadata__") continue;
                    var (type, shape, begin, end) = Describe(path, property);
                    var needed = ByteCount(shape, type);
                    if (needed > (UInt128)dataLength)
                        throw new CheckpointFormatException(path, $"tensor '{property.Name}' has shape {CheckpointTensor.FormatShape(shape)} of {type}, which needs {needed:N0} bytes, more than the {dataLength:N0} data bytes in the file.");
                    if (begin < 0 || end < begin || end > dataLength)
                        throw new CheckpointFormatException(path, $"tensor '{property.Name}' has offsets [{begin}, {end}] outside the {dataLength} data bytes.");
                    if ((UInt128)(end - begin) != needed)
                        throw new CheckpointFormatException(path, $"tensor '{property.Name}' spans {end - begin} bytes but its shape {CheckpointTensor.FormatShape(shape)} needs {needed}.");
                    if (!tensors.TryAdd(property.Name, new Located(new TensorEntry(property.Name, shape, type), begin, end)))
                        throw new CheckpointFormatException(path, $"tensor '{property.Name}' is named twice in the header; the format forbids it, so the file is refused.");
                }
            }
            if (tensors.Count == 0) throw new CheckpointFormatException(path, "the file holds no tensors.");
            CheckDisjoint(path, tensors.Values);
            return new Index(path, file, dataStart, tensors);
        }

        public override float[] Read(string name, ReadBudget budget)
        {
            var t = _tensors[name];
            budget.Charge(t.End - t.Begin, name);
            var bytes = new byte[t.End - t.Begin];
            _file.Position = _dataStart + t.Begin;
            _file.ReadExactly(bytes);
            return t.Entry.Type.ToFloats(bytes, t.Entry.ElementCount);
        }

        public override void Dispose() => _file.Dispose();

        // The format forbids overlapping ranges: without this, one stored block could be read as any number of tensors.
        private static void CheckDisjoint(string path, IEnumerable<Located> tensors)
        {
            Located? previous = null;
            foreach (var t in tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin))
            {
                if (previous is not null && t.Begin < previous.End)
                    throw new CheckpointFormatException(path,
                        $"tensors '{previous.Entry.Name}' [{previous.Begin}, {previous.End}] and '{t.Entry.Name}' [{t.Begin}, {t.End}] overlap in the data; the format forbids it, so the file is refused.");
                previous = t;
            }
        }
    }

    // In 128 bits, a product of int dimensions cannot wrap until it exceeds 2^64 by far; stop there.
    private static UInt128 ByteCount(int[] shape, ElementType type)
    {
        UInt128 bytes = (UInt128)type.Size();
        foreach (var d in shape)
        {
            bytes *= (UInt128)d;
            if (bytes > ulong.MaxValue) return (UInt128)ulong.MaxValue + 1;
        }
        return bytes;
    }

    private static (ElementType Type, int[] Shape, long Begin, long End) Describe(string path, JsonProperty property)
    {
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new CheckpointFormatException(path, $"tensor '{property.Name}' lacks dtype, shape or data_offsets in the header.");
        var type = dtype.GetString() switch
        {
            "F32" => ElementType.Float32,
            "F64" => ElementType.Float64,
            "F16" => ElementType.Float16,
            "BF16" => ElementType.BFloat16,
            "I64" => ElementType.Int64,
            "I32" => ElementType.Int32,
            "I16" => ElementType.Int16,
            "I8" => ElementType.Int8,
            "U8" => ElementType.UInt8,
            "BOOL" => ElementType.Bool,
            var other => throw new CheckpointFormatException(path, $"tensor '{property.Name}' has unsupported dtype '{other}'."),
        };
        var dims = new int[shape.GetArrayLength()];
        var i = 0;
        foreach (var d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var n) || n < 0)
                throw new CheckpointFormatException(path, $"tensor '{property.Name}' has an invalid shape.");
            dims[i++] = n;
        }
        long[] range = [0, 0];
        i = 0;
        foreach (var o in offsets.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out range[i++]))
                throw new CheckpointFormatException(path, $"tensor '{property.Name}' has invalid data_offsets.");
        }
        return (type, dims, range[0], range[1]);
    }
}
