using System.IO.Compression;
using System.Text;

namespace EffNet.MLNet.Weights;

/// <summary>
/// Reads a PyTorch checkpoint written by <c>torch.save(state_dict)</c> (PyTorch ≥ 1.6: a zip
/// holding <c>data.pkl</c> and one raw little-endian file per storage) without executing any of
/// it. Also accepts the common wrappers <c>{"state_dict": …}</c> and <c>{"model": …}</c>.
/// </summary>
public static class PthCheckpointReader
{
    private static readonly string[] WrapperKeys = ["state_dict", "model", "model_state_dict", "state_dict_ema", "model_ema"];

    /// <summary>Read every tensor of the checkpoint at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a usable state_dict.</exception>
    public static IReadOnlyDictionary<string, CheckpointTensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        try
        {
            using var file = File.OpenRead(path);
            CheckMagic(path, file);
            using var zip = OpenZip(path, file);
            return ReadArchive(path, zip);
        }
        catch (Exception ex) when (ex is not CheckpointFormatException and not FileNotFoundException and not OutOfMemoryException)
        {
            throw new CheckpointFormatException(path, $"the checkpoint is corrupt or truncated ({ex.Message})", ex);
        }
    }

    private static void CheckMagic(string path, FileStream file)
    {
        Span<byte> head = stackalloc byte[4];
        var n = file.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        file.Position = 0;
        if (n == 0) throw new CheckpointFormatException(path, "the file is empty.");
        if (n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return;
        if (head[0] == 0x80)
            throw new CheckpointFormatException(path,
                "this is PyTorch's legacy (pre-1.6) serialization, which is not supported; re-save it with torch.save(torch.load(path), new_path) on PyTorch 1.6 or later.");
        throw new CheckpointFormatException(path, "this is not a PyTorch checkpoint (expected the zip archive torch.save writes).");
    }

    private static ZipArchive OpenZip(string path, Stream file)
    {
        try { return new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException ex)
        {
            throw new CheckpointFormatException(path, $"the zip archive is truncated or corrupt ({ex.Message})", ex);
        }
    }

    private static IReadOnlyDictionary<string, CheckpointTensor> ReadArchive(string path, ZipArchive zip)
    {
        var pickle = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            ?? throw new CheckpointFormatException(path, "the archive has no data.pkl, so it was not written by torch.save.");
        var prefix = pickle.FullName[..^"data.pkl".Length];
        if (zip.GetEntry(prefix + "constants.pkl") is not null)
            throw new CheckpointFormatException(path, "this is a TorchScript archive (torch.jit.save); save the state_dict instead: torch.save(model.state_dict(), path).");
        if (zip.GetEntry(prefix + "byteorder") is { } order && ReadAll(order) is var orderBytes && Encoding.ASCII.GetString(orderBytes).Trim() != "little")
            throw new CheckpointFormatException(path, "the checkpoint was written on a big-endian machine, which is not supported.");

        var storages = new Dictionary<string, (ElementType Type, byte[] Bytes)>();
        object LoadStorage(object?[] pid)
        {
            if (pid.Length < 5 || pid[0] as string != "storage" || pid[1] is not RestrictedUnpickler.PyGlobal type || pid[2] is not string key)
                throw new CheckpointFormatException(path, "the pickle has a persistent id that is not a tensor storage.");
            if (!storages.ContainsKey(key))
            {
                var entry = zip.GetEntry($"{prefix}data/{key}")
                    ?? throw new CheckpointFormatException(path, $"storage '{key}' is referenced but missing from the archive (the file is truncated or corrupt).");
                storages[key] = (StorageElementType(path, type.Name), ReadAll(entry));
            }
            return key;
        }

        var root = new RestrictedUnpickler(path, ReadAll(pickle), LoadStorage).Load();
        var dict = StateDict(path, root);
        var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var (k, v) in dict.Items)
        {
            if (k is not string name || v is not RestrictedUnpickler.TensorView view) continue;
            var (type, bytes) = storages[(string)view.Storage];
            tensors[name] = Materialise(path, name, view, type, bytes);
        }
        if (tensors.Count == 0) throw new CheckpointFormatException(path, "the checkpoint holds no tensors.");
        return tensors;
    }

    private static RestrictedUnpickler.PyDict StateDict(string path, object? root)
    {
        if (root is not RestrictedUnpickler.PyDict dict)
            throw new CheckpointFormatException(path, "the checkpoint does not hold a dict of tensors (a state_dict).");
        if (dict.Items.Any(kv => kv.Value is RestrictedUnpickler.TensorView)) return dict;
        foreach (var key in WrapperKeys)
        {
            var inner = dict.Items.FirstOrDefault(kv => kv.Key as string == key).Value as RestrictedUnpickler.PyDict;
            if (inner is not null && inner.Items.Any(kv => kv.Value is RestrictedUnpickler.TensorView)) return inner;
        }
        throw new CheckpointFormatException(path, "the checkpoint holds a dict, but no tensors in it or under 'state_dict' or 'model'.");
    }

    private static CheckpointTensor Materialise(string path, string name, RestrictedUnpickler.TensorView view, ElementType type, byte[] bytes)
    {
        if (view.Size.Length != view.Stride.Length || view.Size.Any(d => d < 0 || d > int.MaxValue) || view.Offset < 0)
            throw new CheckpointFormatException(path, $"tensor '{name}' has an invalid size or stride.");
        var shape = view.Size.Select(d => (int)d).ToArray();
        var count = CheckpointTensor.ElementCount(shape);
        var available = bytes.LongLength / type.Size();
        long last = view.Offset;
        for (var i = 0; i < shape.Length; i++)
            if (shape[i] > 0) last += (shape[i] - 1) * view.Stride[i];
        if (count > 0 && (last >= available || view.Stride.Any(s => s < 0)))
            throw new CheckpointFormatException(path, $"tensor '{name}' reaches past the end of its storage (the file is truncated or corrupt).");

        if (IsContiguous(shape, view.Stride))
            return new CheckpointTensor(name, shape, type.ToFloats(bytes.AsSpan(checked((int)(view.Offset * type.Size()))), count));

        var data = new float[count];
        var index = new long[shape.Length];
        for (long i = 0; i < count; i++)
        {
            long at = view.Offset;
            for (var d = 0; d < shape.Length; d++) at += index[d] * view.Stride[d];
            data[i] = type.Read(bytes, at);
            for (var d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return new CheckpointTensor(name, shape, data);
    }

    private static bool IsContiguous(int[] shape, long[] stride)
    {
        long expected = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && stride[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    private static ElementType StorageElementType(string path, string storage) => storage switch
    {
        "FloatStorage" => ElementType.Float32,
        "DoubleStorage" => ElementType.Float64,
        "HalfStorage" => ElementType.Float16,
        "BFloat16Storage" => ElementType.BFloat16,
        "LongStorage" => ElementType.Int64,
        "IntStorage" => ElementType.Int32,
        "ShortStorage" => ElementType.Int16,
        "CharStorage" => ElementType.Int8,
        "ByteStorage" => ElementType.UInt8,
        "BoolStorage" => ElementType.Bool,
        _ => throw new CheckpointFormatException(path, $"unsupported storage type torch.{storage}."),
    };

    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        // Deflate cannot expand more than ~1032:1, so a larger claim is a corrupt directory, not a reason to allocate.
        if (entry.Length > int.MaxValue || entry.Length > Math.Max(entry.CompressedLength, 1) * 1100L)
            throw new InvalidDataException($"entry '{entry.FullName}' claims an impossible size of {entry.Length} bytes");
        using var s = entry.Open();
        var buffer = new byte[entry.Length];
        s.ReadExactly(buffer);
        return buffer;
    }
}
