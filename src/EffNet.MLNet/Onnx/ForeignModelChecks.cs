using System.Globalization;
using EffNet.MLNet.Weights;
using Google.Protobuf;
using Onnx;

namespace EffNet.MLNet.Onnx;

/// <summary>
/// What a bring-your-own ONNX model may ask for before it is adapted: a file of protobuf's size
/// at most; tensors whose declared sizes fit a budget; and data in other files only when the user
/// allowed it and each file lies beside the model, in which case the data is read into the
/// graph here, so ONNX Runtime never resolves a path itself (it would look in the temp folder).
/// </summary>
internal static class ForeignModelChecks
{
    /// <summary>The largest ONNX file read (protobuf's own limit is 2 GiB).</summary>
    public const long MaxFileBytes = int.MaxValue;

    /// <summary>The most bytes one declared tensor (a weight, a constant, a declared intermediate) may describe.</summary>
    public const long MaxTensorBytes = 1L << 30;

    /// <summary>The most bytes all weights and constants together may describe (B7's are 265 MB).</summary>
    public const long MaxTotalTensorBytes = 2L << 30;

    /// <summary>Refuse what is not a regular file of at most <see cref="MaxFileBytes"/>.</summary>
    public static void CheckFile(string path)
    {
        if (FileKind.NotRegular(path) is { } problem) throw new CheckpointFormatException(path, $"the ONNX model {problem}.");
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new CheckpointFormatException(path, $"the ONNX file is {length:N0} bytes, more than the {MaxFileBytes:N0} an ONNX protobuf can be.");
    }

    /// <summary>Check declared sizes, and refuse or read in external data.</summary>
    /// <exception cref="CheckpointFormatException">A tensor is over the budget, or keeps its data in a file that is not allowed.</exception>
    public static void Check(string path, ModelProto model, bool allowExternalData)
    {
        var graph = model.Graph;
        if (graph is null) return;
        var tensors = AllTensors(graph).ToList();
        long total = 0;
        foreach (var t in tensors)
        {
            var bytes = DeclaredBytes(path, t.Name, t.Dims, ElementSize(t.DataType));
            total += bytes;
            if (total > MaxTotalTensorBytes)
                throw new CheckpointFormatException(path, $"the weights and constants declare more than {MaxTotalTensorBytes:N0} bytes (at tensor '{InertText.Name(t.Name)}'); refusing the model before loading it.");
        }
        foreach (var v in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo))
        {
            var dims = v.Type?.TensorType?.Shape?.Dim;
            if (dims is null) continue;
            // A symbolic dimension (the batch) counts as one: the check is on what the file itself fixes.
            DeclaredBytes(path, v.Name, dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : 1), ElementSize(v.Type!.TensorType.ElemType));
        }
        var external = tensors.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External || t.ExternalData.Count > 0).ToList();
        if (external.Count == 0) return;
        if (!allowExternalData)
            throw new CheckpointFormatException(path,
                $"tensor '{InertText.Name(external[0].Name)}' keeps its data in another file ({InertText.Name(Location(external[0]))}); set AllowExternalData to read data files that lie beside the model, or save the model with its data inside (onnx.save_model(model, path, save_as_external_data=False)).");
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        foreach (var t in external) ReadIn(path, folder, t);
    }

    private static IEnumerable<TensorProto> AllTensors(GraphProto graph)
    {
        foreach (var t in graph.Initializer) yield return t;
        foreach (var s in graph.SparseInitializer) { yield return s.Values; yield return s.Indices; }
        foreach (var a in graph.Node.SelectMany(n => n.Attribute))
        {
            if (a.T is not null) yield return a.T;
            foreach (var t in a.Tensors) yield return t;
            foreach (var g in (a.G is null ? [] : new[] { a.G }).Concat(a.Graphs))
                foreach (var t in AllTensors(g)) yield return t;
        }
    }

    private static long DeclaredBytes(string path, string name, IEnumerable<long> dims, int elementSize)
    {
        UInt128 bytes = (UInt128)elementSize;
        foreach (var d in dims)
        {
            if (d < 0) throw new CheckpointFormatException(path, $"tensor '{InertText.Name(name)}' declares a negative dimension.");
            bytes *= (UInt128)d;
            if (bytes > MaxTensorBytes)
                throw new CheckpointFormatException(path, $"tensor '{InertText.Name(name)}' declares more than {MaxTensorBytes:N0} bytes (shape [{string.Join(", ", dims)}]); refusing the model before loading it.");
        }
        return (long)bytes;
    }

    private static string Location(TensorProto t) => t.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value ?? "no location";

    // Each external file must be a regular file in the model's own folder; its bytes become the tensor's raw data.
    private static void ReadIn(string path, string folder, TensorProto t)
    {
        var location = Location(t);
        var name = InertText.Name(t.Name);
        var file = Path.GetFullPath(Path.Combine(folder, location));
        if (Path.IsPathRooted(location) || Path.GetDirectoryName(file) != folder || FileKind.OfEntry(file) != FileKind.Kind.Regular)
            throw new CheckpointFormatException(path, $"tensor '{name}' keeps its data in '{InertText.Name(location)}', which is not a regular file beside the model; only files in the model's own folder are read.");
        long Number(string key) => t.ExternalData.FirstOrDefault(e => e.Key == key) is { } e
            ? long.TryParse(e.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new CheckpointFormatException(path, $"tensor '{name}' has an invalid external {key} '{InertText.Name(e.Value)}'.")
            : -1;
        var offset = Math.Max(0, Number("offset"));
        var expected = DeclaredBytes(path, t.Name, t.Dims, ElementSize(t.DataType));
        var length = Number("length") is >= 0 and var l ? l : expected;
        var size = new FileInfo(file).Length;
        if (length != expected || offset > size || length > size - offset)
            throw new CheckpointFormatException(path, $"tensor '{name}' names bytes [{offset}, {offset + length}) of '{InertText.Name(location)}' ({size:N0} bytes), which do not hold its {expected:N0} bytes.");
        var data = new byte[length];
        using (var stream = File.OpenRead(file))
        {
            stream.Position = offset;
            stream.ReadExactly(data);
        }
        t.RawData = ByteString.CopyFrom(data);
        t.ExternalData.Clear();
        t.DataLocation = TensorProto.Types.DataLocation.Default;
    }

    private static int ElementSize(int dataType) => dataType switch
    {
        2 or 3 or 9 => 1,
        4 or 5 or 10 or 16 => 2,
        1 or 6 or 12 => 4,
        7 or 11 or 13 or 14 => 8,
        15 => 16,
        _ => 1,
    };
}
