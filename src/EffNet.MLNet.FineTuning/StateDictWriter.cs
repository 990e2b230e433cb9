using System.Text;
using System.Text.Json;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// Writes tensors as a .safetensors file (an 8-byte little-endian header length, a JSON header of
/// dtype, shape and byte offsets, then the raw little-endian data): torchvision's state_dict of
/// the fine-tuned network, which the library's checkpoint reader and PyTorch (safetensors) load.
/// </summary>
internal static class StateDictWriter
{
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, float[] Data)> floats, IEnumerable<(string Name, long Value)>? scalars = null)
    {
        var tensors = floats.ToList();
        var longs = (scalars ?? []).ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, shape, data) in tensors)
        {
            header[name] = new { dtype = "F32", shape, data_offsets = new[] { offset, offset + 4L * data.Length } };
            offset += 4L * data.Length;
        }
        foreach (var (name, _) in longs)
        {
            header[name] = new { dtype = "I64", shape = Array.Empty<int>(), data_offsets = new[] { offset, offset + 8 } };
            offset += 8;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write((ulong)padded);
            w.Write(json);
            for (var i = json.Length; i < padded; i++) w.Write((byte)' ');
            foreach (var (_, _, data) in tensors)
                foreach (var v in data) w.Write(v);
            foreach (var (_, value) in longs) w.Write(value);
        });
    }

    /// <summary>Every tensor of <paramref name="p"/> under torchvision's names, with num_batches_tracked as PyTorch expects.</summary>
    public static void WriteTorchvision(string path, NetworkParameters p)
    {
        var floats = p.Values.Select(kv => (kv.Key, p.Shapes[kv.Key], kv.Value));
        var counters = p.Values.Keys.Where(k => k.EndsWith(".running_mean", StringComparison.Ordinal))
            .Select(k => (k[..^".running_mean".Length] + ".num_batches_tracked", 0L));
        Write(path, floats, counters);
    }
}
