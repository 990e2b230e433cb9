namespace EffNet.MLNet.Weights;

/// <summary>
/// A tensor as PyTorch stores it: a view (offset, sizes, strides) into a storage of
/// elements. Checked before anything is read: a view may not repeat elements (stride 0, as
/// <c>expand()</c> makes, or strides that fold onto each other), may not reach past its
/// storage, and two tensors may not share elements. A view that passes covers at most its
/// storage's elements, so the data it describes is bounded by the bytes in the file.
/// </summary>
internal sealed record StridedView(string Name, string StorageKey, long Offset, int[] Shape, long[] Stride)
{
    public long ElementCount => CheckpointTensor.ElementCount(Shape);

    /// <summary>Index of the first element in the storage.</summary>
    public long First => Offset;

    /// <summary>Index of the last element in the storage (only meaningful when the view is not empty).</summary>
    public long Last { get; private init; }

    /// <summary>Build and check a view over a storage of <paramref name="storageElements"/> elements.</summary>
    public static StridedView Create(string path, string name, string storageKey, long offset, long[] size, long[] stride, long storageElements)
    {
        if (size.Length != stride.Length || size.Any(d => d is < 0 or > int.MaxValue) || offset < 0 || stride.Any(s => s < 0))
            throw new CheckpointFormatException(path, $"tensor '{name}' has an invalid size, stride or offset.");
        var view = new StridedView(name, storageKey, offset, size.Select(d => (int)d).ToArray(), stride);
        if (view.ElementCount == 0) return view;

        // Dimensions of length one never step; the others, from the finest stride up, must each
        // step past everything the finer ones cover, or two indices land on one element.
        long covered = 0;
        foreach (var d in Enumerable.Range(0, size.Length).Where(d => size[d] > 1).OrderBy(d => stride[d]))
        {
            if (stride[d] == 0)
                throw new CheckpointFormatException(path,
                    $"tensor '{name}' has stride 0 in dimension {d} (a broadcast view such as expand()), so {view.ElementCount:N0} values would be made from a storage of {storageElements:N0} elements; refusing it. Save real copies: torch.save({{k: v.contiguous().clone() for k, v in state_dict.items()}}, path).");
            if (stride[d] <= covered)
                throw new CheckpointFormatException(path,
                    $"tensor '{name}' is an overlapping view (sizes {CheckpointTensor.FormatShape(view.Shape)}, strides [{string.Join(", ", stride)}] reuse elements); refusing it. Save real copies: torch.save({{k: v.contiguous().clone() for k, v in state_dict.items()}}, path).");
            if (stride[d] >= storageElements || size[d] - 1 > (storageElements - covered) / stride[d])
                throw PastEnd(path, name);
            covered += (size[d] - 1) * stride[d];
        }
        if (offset >= storageElements || covered >= storageElements - offset) throw PastEnd(path, name);
        return view with { Last = offset + covered };
    }

    /// <summary>Refuse two tensors that share elements of one storage.</summary>
    public static void CheckDisjoint(string path, IEnumerable<StridedView> views)
    {
        foreach (var storage in views.Where(v => v.ElementCount > 0).GroupBy(v => v.StorageKey))
        {
            StridedView? previous = null;
            foreach (var view in storage.OrderBy(v => v.First))
            {
                if (previous is not null && view.First <= previous.Last)
                    throw new CheckpointFormatException(path,
                        $"tensors '{previous.Name}' and '{view.Name}' are views of the same bytes (storage '{storage.Key}'); a state_dict has one storage per tensor, so the file is refused. Save real copies: torch.save({{k: v.contiguous().clone() for k, v in state_dict.items()}}, path).");
                previous = view;
            }
        }
    }

    private static CheckpointFormatException PastEnd(string path, string name) =>
        new(path, $"tensor '{name}' reaches past the end of its storage (the file is truncated or corrupt).");
}
