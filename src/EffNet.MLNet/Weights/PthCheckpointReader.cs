using System.IO.Compression;
using System.Text;

namespace EffNet.MLNet.Weights;

/// <summary>
/// Reads a PyTorch checkpoint written by <c>torch.save(state_dict)</c> (PyTorch ≥ 1.6: a zip
/// holding <c>data.pkl</c> and one raw little-endian file per storage) without executing any of
/// it. Also accepts the common wrappers <c>{"state_dict": …}</c> and <c>{"model": …}</c>.
/// Every tensor's view is checked against its storage before any data is read: broadcast
/// (stride 0) and overlapping views, and tensors sharing bytes, are refused.
/// </summary>
internal static class PthCheckpointReader
{
    /// <summary>The largest <c>data.pkl</c> accepted; a state_dict's pickle is kilobytes (B7's is 192 KB).</summary>
    public const long MaxPickleBytes = 16L * 1024 * 1024;

    private static readonly string[] WrapperKeys = ["state_dict", "model", "model_state_dict", "state_dict_ema", "model_ema"];

    /// <summary>Read every tensor of the checkpoint at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a usable state_dict, or describes more than 1 GiB of tensor data.</exception>
    public static IReadOnlyDictionary<string, CheckpointTensor> Read(string path)
    {
        using var index = Open(path);
        return index.ReadAll(ReadBudget.Unplanned(path));
    }

    /// <summary>Open the archive and read its pickle; no tensor data is read yet.</summary>
    internal static CheckpointIndex Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        FileStream? file = null;
        ZipArchive? zip = null;
        try
        {
            file = File.OpenRead(path);
            CheckMagic(path, file);
            CheckEntriesDisjoint(path, file);
            zip = OpenZip(path, file);
            return Index.Create(path, file, zip);
        }
        catch (Exception ex)
        {
            zip?.Dispose();
            file?.Dispose();
            if (IsOurs(ex)) throw;
            throw Corrupt(path, ex);
        }
    }

    private static bool IsOurs(Exception ex) => ex is CheckpointFormatException or FileNotFoundException or OutOfMemoryException;

    private static CheckpointFormatException Corrupt(string path, Exception ex) =>
        new(path, $"the checkpoint is corrupt or truncated ({ex.Message})", ex);

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

    // ZipArchive reads whatever offset the directory names, so two storages pointing at one
    // deflated block would pass the per-tensor checks and make one stored block into many tensors.
    private static void CheckEntriesDisjoint(string path, FileStream file)
    {
        IReadOnlyList<ZipEntrySpan> spans;
        try { spans = ZipLayout.Read(file); }
        catch (InvalidDataException ex)
        {
            throw new CheckpointFormatException(path, $"the zip archive is truncated or corrupt ({ex.Message})", ex);
        }
        if (ZipLayout.FindOverlap(spans) is var (first, second))
            throw new CheckpointFormatException(path,
                $"zip entries '{first.Name}' and '{second.Name}' point at the same bytes of the file; a state_dict has one storage per tensor, so the file is refused.");
    }

    private static ZipArchive OpenZip(string path, Stream file)
    {
        try { return new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException ex)
        {
            throw new CheckpointFormatException(path, $"the zip archive is truncated or corrupt ({ex.Message})", ex);
        }
    }

    private sealed record Storage(ZipArchiveEntry Entry, ElementType Type);

    private sealed class Index : CheckpointIndex
    {
        private readonly FileStream _file;
        private readonly ZipArchive _zip;
        private readonly Dictionary<string, Storage> _storages;
        private readonly Dictionary<string, StridedView> _views;

        private Index(string path, FileStream file, ZipArchive zip, Dictionary<string, Storage> storages, Dictionary<string, StridedView> views)
            : base(path)
        {
            _file = file;
            _zip = zip;
            _storages = storages;
            _views = views;
            Entries = views.ToDictionary(kv => kv.Key, kv => new TensorEntry(kv.Key, kv.Value.Shape, storages[kv.Value.StorageKey].Type), StringComparer.Ordinal);
        }

        public override IReadOnlyDictionary<string, TensorEntry> Entries { get; }

        public static Index Create(string path, FileStream file, ZipArchive zip)
        {
            var pickle = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                ?? throw new CheckpointFormatException(path, "the archive has no data.pkl, so it was not written by torch.save.");
            var prefix = pickle.FullName[..^"data.pkl".Length];
            if (zip.GetEntry(prefix + "constants.pkl") is not null)
                throw new CheckpointFormatException(path, "this is a TorchScript archive (torch.jit.save); save the state_dict instead: torch.save(model.state_dict(), path).");
            if (zip.GetEntry(prefix + "byteorder") is { } order && Encoding.ASCII.GetString(ReadEntry(path, order, 64)).Trim() != "little")
                throw new CheckpointFormatException(path, "the checkpoint was written on a big-endian machine, which is not supported.");

            var storages = new Dictionary<string, Storage>();
            object LoadStorage(object?[] pid)
            {
                if (pid.Length < 5 || pid[0] as string != "storage" || pid[1] is not RestrictedUnpickler.PyGlobal type || pid[2] is not string key)
                    throw new CheckpointFormatException(path, "the pickle has a persistent id that is not a tensor storage.");
                if (!storages.ContainsKey(key))
                {
                    var entry = zip.GetEntry($"{prefix}data/{key}")
                        ?? throw new CheckpointFormatException(path, $"storage '{key}' is referenced but missing from the archive (the file is truncated or corrupt).");
                    CheckPlausibleSize(path, entry);
                    storages[key] = new Storage(entry, StorageElementType(path, type.Name));
                }
                return key;
            }

            var root = new RestrictedUnpickler(path, ReadEntry(path, pickle, MaxPickleBytes), LoadStorage).Load();
            var views = new Dictionary<string, StridedView>(StringComparer.Ordinal);
            foreach (var (k, v) in StateDict(path, root).Items)
            {
                if (k is not string name || v is not RestrictedUnpickler.TensorView view) continue;
                if (views.ContainsKey(name)) throw new CheckpointFormatException(path, $"tensor '{name}' appears twice in the state_dict.");
                if (view.Storage is not string key || !storages.TryGetValue(key, out var storage))
                    throw new CheckpointFormatException(path, $"tensor '{name}' does not refer to a storage in the archive.");
                views[name] = StridedView.Create(path, name, key, view.Offset, view.Size, view.Stride, storage.Entry.Length / storage.Type.Size());
            }
            if (views.Count == 0) throw new CheckpointFormatException(path, "the checkpoint holds no tensors.");
            StridedView.CheckDisjoint(path, views.Values);
            return new Index(path, file, zip, storages, views);
        }

        public override float[] Read(string name, ReadBudget budget)
        {
            var view = _views[name];
            if (view.ElementCount == 0) return [];
            var storage = _storages[view.StorageKey];
            var size = storage.Type.Size();
            var bytes = (view.Last - view.First + 1) * size;
            budget.Charge(bytes, name);
            try
            {
                // Only the elements this view spans are read; the storage around them is skipped.
                using var stream = storage.Entry.Open();
                Skip(stream, view.First * size);
                var buffer = new byte[bytes];
                stream.ReadExactly(buffer);
                return Materialise(view, storage.Type, buffer);
            }
            catch (Exception ex) when (!IsOurs(ex))
            {
                throw Corrupt(Path, ex);
            }
        }

        public override void Dispose()
        {
            _zip.Dispose();
            _file.Dispose();
        }
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

    // bytes hold the view's span, starting at its first element.
    private static float[] Materialise(StridedView view, ElementType type, byte[] bytes)
    {
        var count = view.ElementCount;
        if (IsContiguous(view.Shape, view.Stride)) return type.ToFloats(bytes, count);
        var shape = view.Shape;
        var data = new float[count];
        var index = new long[shape.Length];
        for (long i = 0; i < count; i++)
        {
            long at = 0;
            for (var d = 0; d < shape.Length; d++) at += index[d] * view.Stride[d];
            data[i] = type.Read(bytes, at);
            for (var d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return data;
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

    // Deflate cannot expand more than ~1032:1, so a larger claim is a corrupt directory, not a reason to allocate.
    private static void CheckPlausibleSize(string path, ZipArchiveEntry entry)
    {
        if (entry.Length > Math.Max(entry.CompressedLength, 1) * 1100L)
            throw new CheckpointFormatException(path, $"zip entry '{entry.FullName}' claims {entry.Length:N0} bytes from {entry.CompressedLength:N0} compressed, an impossible ratio (the file is corrupt).");
    }

    private static byte[] ReadEntry(string path, ZipArchiveEntry entry, long limit)
    {
        CheckPlausibleSize(path, entry);
        if (entry.Length > limit)
            throw new CheckpointFormatException(path,
                $"zip entry '{entry.FullName}' is {entry.Length:N0} bytes, over the {limit:N0} bytes it can need in a state_dict; refusing it before reading.");
        using var s = entry.Open();
        var buffer = new byte[entry.Length];
        s.ReadExactly(buffer);
        return buffer;
    }

    private static void Skip(Stream stream, long bytes)
    {
        if (bytes == 0) return;
        if (stream.CanSeek)
        {
            stream.Seek(bytes, SeekOrigin.Current);
            return;
        }
        Span<byte> scratch = stackalloc byte[4096];
        while (bytes > 0)
        {
            var n = stream.Read(scratch[..(int)Math.Min(bytes, scratch.Length)]);
            if (n == 0) throw new EndOfStreamException("the storage ends before the tensor starts");
            bytes -= n;
        }
    }
}
