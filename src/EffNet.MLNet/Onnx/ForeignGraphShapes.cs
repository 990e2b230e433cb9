using System.Globalization;
using EffNet.MLNet.Weights;
using Onnx;

namespace EffNet.MLNet.Onnx;

/// <summary>
/// Works out the size of every tensor a bring-your-own graph makes for one image, from the file alone (ONNX
/// shape inference, for the ops an image classifier uses), and refuses the graph before ONNX Runtime loads it
/// when one would pass <see cref="MaxIntermediateBytes"/>, or when an op or a size cannot be worked out. Checking
/// declared sizes is not enough: fifty chained <c>Resize</c> ops declare nothing and take gigabytes. Refusing
/// growing ops outright (Resize, Tile, Pad…) would not be enough either: a broadcast <c>Add</c> of a column and a
/// row, a <c>Concat</c> of a tensor with itself or a <c>Conv</c> with huge pads grows as fast. So every op's
/// output is computed, and ops whose size this cannot compute (loops, conditionals, shapes read from data at run
/// time) are refused by name.
/// </summary>
internal static class ForeignGraphShapes
{
    /// <summary>
    /// The most one intermediate tensor may take for one image (4 bytes an element): 256 MiB. EfficientNet-B7 at
    /// 600×600 peaks near 70 MB (the first stage's expanded activations); larger models are not image featurizers.
    /// </summary>
    public const long MaxIntermediateBytes = 256L << 20;

    private const long MaxElements = MaxIntermediateBytes / 4;

    /// <summary>Check every tensor <paramref name="graph"/> makes from an input of <paramref name="inputShape"/> (batch 1).</summary>
    /// <exception cref="CheckpointFormatException">A tensor would pass the budget, or an op or a size cannot be worked out; the message names the node and the op.</exception>
    public static void Check(string path, GraphProto graph, IEnumerable<NodeProto> nodes, string inputName, long[] inputShape)
    {
        var walk = new Walk(path);
        foreach (var t in graph.Initializer) walk.Known(t.Name, [.. t.Dims], Values(t));
        walk.Known(inputName, inputShape, null);
        foreach (var node in nodes) walk.Node(node);
    }

    // Sizes are computed in doubles and held below 10^15: a hostile pad or repeat count must not wrap around.
    private static long Saturated(double value) => value >= 1e15 ? 1_000_000_000_000_000 : (long)Math.Floor(value);

    // Small integer tensors (shapes, axes, pads, sizes) whose values the walk follows; null for anything else.
    private static long[]? Values(TensorProto t)
    {
        var count = t.Dims.Aggregate(1L, (a, d) => a * d);
        if (count > 64) return null;
        return t.DataType switch
        {
            7 when t.Int64Data.Count > 0 => [.. t.Int64Data],
            7 when t.RawData.Length == count * 8 => Enumerable.Range(0, (int)count).Select(i => BitConverter.ToInt64(t.RawData.Span.Slice(i * 8, 8))).ToArray(),
            6 when t.Int32Data.Count > 0 => t.Int32Data.Select(v => (long)v).ToArray(),
            6 when t.RawData.Length == count * 4 => Enumerable.Range(0, (int)count).Select(i => (long)BitConverter.ToInt32(t.RawData.Span.Slice(i * 4, 4))).ToArray(),
            1 when t.FloatData.Count > 0 => FloatsAsScaled(t.FloatData),
            1 when t.RawData.Length == count * 4 => FloatsAsScaled(Enumerable.Range(0, (int)count).Select(i => BitConverter.ToSingle(t.RawData.Span.Slice(i * 4, 4)))),
            _ => count == 0 ? [] : null,
        };
    }

    // Float tensors followed here are Resize/Upsample scales: kept as thousandths, rounded up (an upper bound).
    private static long[] FloatsAsScaled(IEnumerable<float> values) =>
        values.Select(v => float.IsFinite(v) && v >= 0 && v < 1e9f ? (long)Math.Ceiling(v * 1000.0) : long.MaxValue / 4).ToArray();

    private sealed class Walk(string path)
    {
        private readonly Dictionary<string, long[]> _shapes = [];
        private readonly Dictionary<string, long[]> _values = [];
        private readonly HashSet<string> _scales = [];

        public void Known(string name, long[] shape, long[]? values)
        {
            _shapes[name] = shape;
            if (values is not null) _values[name] = values;
        }

        public void Node(NodeProto node)
        {
            var outputs = Infer(node);
            for (var i = 0; i < node.Output.Count && i < outputs.Count; i++)
            {
                if (node.Output[i].Length == 0) continue;
                var (shape, values) = outputs[i];
                var elements = shape.Aggregate(1.0, (a, d) => a * d);
                if (shape.Any(d => d < 0))
                    throw Refused(node, $"makes tensor '{InertText.Name(node.Output[i])}' of an invalid shape [{string.Join(", ", shape)}]");
                if (elements > MaxElements)
                    throw Refused(node, $"makes tensor '{InertText.Name(node.Output[i])}' of shape [{string.Join(", ", shape)}] for one image ({elements * 4:N0} bytes), more than the {MaxIntermediateBytes:N0} bytes an intermediate may take");
                Known(node.Output[i], shape, values);
            }
        }

        private CheckpointFormatException Refused(NodeProto node, string problem) =>
            new(path, $"node '{InertText.Name(node.Name)}' ({InertText.Name(node.OpType)}) {problem}; refusing the model before loading it.");

        private long[] Shape(NodeProto node, int input)
        {
            if (input >= node.Input.Count || node.Input[input].Length == 0) throw Refused(node, $"lacks input {input}");
            return _shapes.TryGetValue(node.Input[input], out var shape) ? shape
                : throw Refused(node, $"reads tensor '{InertText.Name(node.Input[input])}', whose size cannot be worked out from the file");
        }

        private bool Has(NodeProto node, int input) => input < node.Input.Count && node.Input[input].Length > 0;

        private long[] Value(NodeProto node, int input) =>
            Has(node, input) && _values.TryGetValue(node.Input[input], out var v) ? v
                : throw Refused(node, $"takes its {(Has(node, input) ? $"'{InertText.Name(node.Input[input])}'" : $"input {input}")} from data computed at run time; the adapter only accepts sizes written in the file");

        private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

        private static long Int(NodeProto node, string name, long fallback) => Attribute(node, name) is { } a ? a.I : fallback;

        private static long[]? Ints(NodeProto node, string name) => Attribute(node, name) is { } a ? [.. a.Ints] : null;

        private static List<(long[], long[]?)> One(long[] shape, long[]? values = null) => [(shape, values)];

        private static long Axis(long axis, int rank) => axis < 0 ? axis + rank : axis;

        private List<(long[] Shape, long[]? Values)> Infer(NodeProto node)
        {
            switch (node.OpType)
            {
                case "Relu" or "Sigmoid" or "Tanh" or "HardSigmoid" or "HardSwish" or "LeakyRelu" or "Elu" or "Selu" or "Softplus"
                    or "Softsign" or "Clip" or "Softmax" or "LogSoftmax" or "Erf" or "Exp" or "Log" or "Neg" or "Abs" or "Sqrt"
                    or "Reciprocal" or "Floor" or "Ceil" or "Round" or "Gelu" or "Mish" or "Sin" or "Cos" or "Not" or "Sign"
                    or "LRN" or "InstanceNormalization" or "LayerNormalization" or "QuantizeLinear" or "DequantizeLinear":
                    return One(Shape(node, 0));
                case "Identity" or "Cast":
                    return One(Shape(node, 0), _values.GetValueOrDefault(node.Input[0]));
                case "Dropout":
                    return [(Shape(node, 0), null), (Shape(node, 0), null)];
                case "BatchNormalization":
                    var channels = Shape(node, 1);
                    return [(Shape(node, 0), null), (channels, null), (channels, null), (channels, null), (channels, null)];
                case "Add" or "Sub" or "Mul" or "Div" or "Pow" or "Max" or "Min" or "Sum" or "Mean" or "PRelu" or "Equal" or "Less"
                    or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "And" or "Or" or "Where":
                    return One(node.Input.Select((_, i) => Shape(node, i)).Aggregate((a, b) => Broadcast(node, a, b)));
                case "Conv":
                    return One(Convolved(node, Shape(node, 0), Shape(node, 1)));
                case "MaxPool" or "AveragePool" or "LpPool":
                    var pooled = Pooled(node, Shape(node, 0));
                    return [(pooled, null), (pooled, null)];
                case "GlobalAveragePool" or "GlobalMaxPool" or "GlobalLpPool":
                    var x = Shape(node, 0);
                    return One([.. x.Take(2), .. x.Skip(2).Select(_ => 1L)]);
                case "ReduceMean" or "ReduceSum" or "ReduceMax" or "ReduceMin" or "ReduceL1" or "ReduceL2" or "ReduceProd"
                    or "ReduceLogSumExp" or "ReduceSumSquare" or "ArgMax" or "ArgMin":
                    return One(Reduced(node, Shape(node, 0)));
                case "Flatten":
                    var f = Shape(node, 0);
                    var at = (int)Axis(Int(node, "axis", 1), f.Length);
                    return One([Product(f.Take(at)), Product(f.Skip(at))]);
                case "Gemm":
                    var a = Shape(node, 0);
                    var b = Shape(node, 1);
                    if (a.Length != 2 || b.Length != 2) throw Refused(node, "multiplies tensors that are not matrices");
                    return One([Int(node, "transA", 0) == 1 ? a[1] : a[0], Int(node, "transB", 0) == 1 ? b[0] : b[1]]);
                case "MatMul":
                    return One(MatMul(node, Shape(node, 0), Shape(node, 1)));
                case "Transpose":
                    var t = Shape(node, 0);
                    var perm = Ints(node, "perm") ?? Enumerable.Range(0, t.Length).Reverse().Select(i => (long)i).ToArray();
                    if (perm.Length != t.Length || perm.Any(p => p < 0 || p >= t.Length)) throw Refused(node, "has an invalid perm");
                    return One(perm.Select(p => t[p]).ToArray());
                case "Reshape":
                    return One(Reshaped(node, Shape(node, 0), Value(node, 1)), _values.GetValueOrDefault(node.Input[0]));
                case "Squeeze":
                    var s = Shape(node, 0);
                    var squeezed = Ints(node, "axes") ?? (Has(node, 1) ? Value(node, 1) : null);
                    var drop = squeezed?.Select(d => Axis(d, s.Length)).ToHashSet();
                    return One(s.Where((d, i) => drop is null ? d != 1 : !drop.Contains(i)).ToArray(), _values.GetValueOrDefault(node.Input[0]));
                case "Unsqueeze":
                    var u = Shape(node, 0);
                    var axes = Ints(node, "axes") ?? Value(node, 1);
                    var rank = u.Length + axes.Length;
                    var added = axes.Select(d => Axis(d, rank)).ToHashSet();
                    var rest = new Queue<long>(u);
                    return One(Enumerable.Range(0, rank).Select(i => added.Contains(i) ? 1L : rest.Count > 0 ? rest.Dequeue() : 1L).ToArray(), _values.GetValueOrDefault(node.Input[0]));
                case "Concat":
                    return One(Concatenated(node, out var joined), joined);
                case "Slice":
                    return One(Sliced(node, Shape(node, 0)));
                case "Pad":
                    var padded = Shape(node, 0);
                    var pads = Ints(node, "pads") ?? Value(node, 1);
                    if (Has(node, 3) || pads.Length != 2 * padded.Length) throw Refused(node, "pads only some axes, which the adapter does not follow");
                    return One(padded.Select((d, i) => Saturated((double)d + pads[i] + pads[i + padded.Length])).ToArray());
                case "Resize" or "Upsample":
                    return One(Resized(node, Shape(node, 0)));
                case "Expand":
                    return One(Broadcast(node, Shape(node, 0), Value(node, 1)));
                case "Tile":
                    var tiled = Shape(node, 0);
                    var repeats = Value(node, 1);
                    if (repeats.Length != tiled.Length) throw Refused(node, "has repeats of the wrong rank");
                    return One(tiled.Select((d, i) => Saturated((double)d * repeats[i])).ToArray());
                case "ConstantOfShape":
                    return One(Value(node, 0));
                case "Shape":
                    var shaped = Shape(node, 0);
                    var start = (int)Math.Clamp(Axis(Int(node, "start", 0), shaped.Length), 0, shaped.Length);
                    var end = (int)Math.Clamp(Axis(Int(node, "end", shaped.Length), shaped.Length), start, shaped.Length);
                    return One([end - start], shaped[start..end]);
                case "Size":
                    return One([], [Product(Shape(node, 0))]);
                case "Constant":
                    return One(ConstantShape(node, out var constant), constant);
                case "Gather":
                    return One(Gathered(node, out var gathered), gathered);
                case "Split":
                    return Split(node, Shape(node, 0));
                default:
                    throw Refused(node, "is an op whose output size the adapter cannot work out from the file (it accepts the ops of image classifiers)");
            }
        }

        private static long Product(IEnumerable<long> dims) => Saturated(dims.Aggregate(1.0, (a, d) => a * d));

        private long[] Broadcast(NodeProto node, long[] a, long[] b)
        {
            var rank = Math.Max(a.Length, b.Length);
            var result = new long[rank];
            for (var i = 0; i < rank; i++)
            {
                var x = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
                var y = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
                if (x != y && x != 1 && y != 1) throw Refused(node, $"broadcasts [{string.Join(", ", a)}] with [{string.Join(", ", b)}], which do not fit");
                result[i] = Math.Max(x, y);
            }
            return result;
        }

        private long[] Convolved(NodeProto node, long[] x, long[] w)
        {
            if (x.Length < 3 || w.Length != x.Length) throw Refused(node, "convolves tensors of unexpected ranks");
            var kernel = w[2..];
            return [x[0], w[0], .. Windows(node, x[2..], kernel)];
        }

        private long[] Pooled(NodeProto node, long[] x)
        {
            var kernel = Ints(node, "kernel_shape") ?? throw Refused(node, "has no kernel_shape");
            if (x.Length != kernel.Length + 2) throw Refused(node, "pools a tensor of unexpected rank");
            return [x[0], x[1], .. Windows(node, x[2..], kernel)];
        }

        // Output sizes of a sliding window (Conv, pooling) along each spatial axis.
        private long[] Windows(NodeProto node, long[] spatial, long[] kernel)
        {
            var n = spatial.Length;
            var strides = Ints(node, "strides") ?? Enumerable.Repeat(1L, n).ToArray();
            var dilations = Ints(node, "dilations") ?? Enumerable.Repeat(1L, n).ToArray();
            var pads = Ints(node, "pads") ?? new long[2 * n];
            var autoPad = Attribute(node, "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
            var ceil = Int(node, "ceil_mode", 0) == 1;
            if (strides.Length != n || dilations.Length != n || pads.Length != 2 * n || strides.Any(s => s < 1) || dilations.Any(d => d < 1) || pads.Any(p => p < 0))
                throw Refused(node, "has invalid strides, dilations or pads");
            var result = new long[n];
            for (var i = 0; i < n; i++)
            {
                var span = (double)dilations[i] * (kernel[i] - 1) + 1;
                var covered = autoPad is "SAME_UPPER" or "SAME_LOWER" ? spatial[i] + strides[i] - 1.0
                    : autoPad == "VALID" ? spatial[i] - span + strides[i]
                    : (double)spatial[i] + pads[i] + pads[i + n] - span + (ceil ? strides[i] - 1 : 0) + strides[i];
                result[i] = Saturated(Math.Floor(covered / strides[i]));
            }
            return result;
        }

        private long[] Reduced(NodeProto node, long[] x)
        {
            var keep = Int(node, "keepdims", 1) == 1;
            long[]? axes = node.OpType is "ArgMax" or "ArgMin" ? [Int(node, "axis", 0)] : Ints(node, "axes") ?? (Has(node, 1) ? Value(node, 1) : null);
            if (axes is null || axes.Length == 0)
                axes = Int(node, "noop_with_empty_axes", 0) == 1 ? [] : Enumerable.Range(0, x.Length).Select(i => (long)i).ToArray();
            var reduced = axes.Select(a => Axis(a, x.Length)).ToHashSet();
            return keep ? x.Select((d, i) => reduced.Contains(i) ? 1 : d).ToArray() : x.Where((_, i) => !reduced.Contains(i)).ToArray();
        }

        private long[] MatMul(NodeProto node, long[] a, long[] b)
        {
            if (a.Length == 0 || b.Length == 0) throw Refused(node, "multiplies a scalar");
            var left = a.Length == 1 ? [1, a[0]] : a;
            var right = b.Length == 1 ? [b[0], 1] : b;
            if (left[^1] != right[^2]) throw Refused(node, $"multiplies [{string.Join(", ", a)}] by [{string.Join(", ", b)}], which do not fit");
            var batch = Broadcast(node, left[..^2], right[..^2]);
            var result = new List<long>(batch);
            if (a.Length > 1) result.Add(left[^2]);
            if (b.Length > 1) result.Add(right[^1]);
            return [.. result];
        }

        private long[] Reshaped(NodeProto node, long[] x, long[] target)
        {
            var total = Product(x);
            var result = target.Select((d, i) => d == 0 && Int(node, "allowzero", 0) == 0 ? (i < x.Length ? x[i] : throw Refused(node, "copies a dimension the input lacks")) : d).ToArray();
            var unknown = Array.IndexOf(result, -1L);
            if (unknown >= 0)
            {
                var known = Product(result.Where((_, i) => i != unknown));
                result[unknown] = known == 0 ? 0 : total / known;
            }
            if (result.Any(d => d < 0) || Product(result) != total) throw Refused(node, $"reshapes [{string.Join(", ", x)}] to [{string.Join(", ", target)}], which do not hold the same number of values");
            return result;
        }

        private long[] Concatenated(NodeProto node)
        {
            var inputs = Enumerable.Range(0, node.Input.Count).Select(i => Shape(node, i)).ToList();
            var axis = (int)Axis(Int(node, "axis", 0), inputs[0].Length);
            if (inputs.Any(s => s.Length != inputs[0].Length) || axis < 0 || axis >= inputs[0].Length) throw Refused(node, "concatenates tensors of different ranks");
            var result = (long[])inputs[0].Clone();
            result[axis] = inputs.Sum(s => s[axis]);
            return result;
        }

        private long[] Concatenated(NodeProto node, out long[]? values)
        {
            values = node.Input.All(i => _values.ContainsKey(i)) ? node.Input.SelectMany(i => _values[i]).ToArray() : null;
            return Concatenated(node);
        }

        private long[] Sliced(NodeProto node, long[] x)
        {
            var starts = Ints(node, "starts") ?? Value(node, 1);
            var ends = Ints(node, "ends") ?? Value(node, 2);
            var axes = Ints(node, "axes") ?? (Has(node, 3) ? Value(node, 3) : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray());
            var steps = Has(node, 4) ? Value(node, 4) : Enumerable.Repeat(1L, starts.Length).ToArray();
            if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length || steps.Any(s => s == 0))
                throw Refused(node, "has starts, ends, axes and steps of different lengths");
            var result = (long[])x.Clone();
            for (var i = 0; i < starts.Length; i++)
            {
                var axis = (int)Axis(axes[i], x.Length);
                if (axis < 0 || axis >= x.Length) throw Refused(node, "slices an axis the input lacks");
                var d = x[axis];
                long Clamp(long v, long lo, long hi) => Math.Clamp(v < 0 ? v + d : v, lo, hi);
                result[axis] = steps[i] > 0
                    ? Math.Max(0, (Clamp(ends[i], 0, d) - Clamp(starts[i], 0, d) + steps[i] - 1) / steps[i])
                    : Math.Max(0, (Clamp(starts[i], -1, d - 1) - Clamp(ends[i], -1, d - 1) - steps[i] - 1) / -steps[i]);
            }
            return result;
        }

        private long[] Resized(NodeProto node, long[] x)
        {
            // Resize: (X, roi, scales, sizes); Upsample: (X, scales) or a scales attribute (opset 7).
            if (node.OpType == "Resize" && Has(node, 3)) return Value(node, 3) is { } sizes && sizes.Length == x.Length ? sizes : throw Refused(node, "has sizes of the wrong rank");
            var scales = node.OpType == "Upsample" && Attribute(node, "scales") is { } attr
                ? FloatsAsScaled(attr.Floats)
                : Value(node, node.OpType == "Resize" && node.Input.Count > 2 ? 2 : 1);   // opset 10's Resize: (X, scales)
            if (scales.Length != x.Length) throw Refused(node, "has scales of the wrong rank");
            return x.Select((d, i) => Saturated(d * (scales[i] / 1000.0))).ToArray();
        }

        private long[] ConstantShape(NodeProto node, out long[]? values)
        {
            values = null;
            if (Attribute(node, "value") is { T: { } tensor })
            {
                values = Values(tensor);
                return [.. tensor.Dims];
            }
            if (Attribute(node, "value_ints") is { } ints) { values = [.. ints.Ints]; return [ints.Ints.Count]; }
            if (Attribute(node, "value_int") is { } one) { values = [one.I]; return []; }
            if (Attribute(node, "value_floats") is { } floats) return [floats.Floats.Count];
            if (Attribute(node, "value_float") is not null) return [];
            throw Refused(node, "holds a kind of constant the adapter does not read");
        }

        private long[] Gathered(NodeProto node, out long[]? values)
        {
            var data = Shape(node, 0);
            var indices = Shape(node, 1);
            var axis = (int)Axis(Int(node, "axis", 0), data.Length);
            if (axis < 0 || axis >= data.Length) throw Refused(node, "gathers along an axis the input lacks");
            values = null;
            if (data.Length == 1 && _values.TryGetValue(node.Input[0], out var source) && _values.TryGetValue(node.Input[1], out var at)
                && at.All(i => i >= -source.Length && i < source.Length))
                values = at.Select(i => source[i < 0 ? i + source.Length : i]).ToArray();
            return [.. data[..axis], .. indices, .. data[(axis + 1)..]];
        }

        private List<(long[], long[]?)> Split(NodeProto node, long[] x)
        {
            var axis = (int)Axis(Int(node, "axis", 0), x.Length);
            if (axis < 0 || axis >= x.Length) throw Refused(node, "splits along an axis the input lacks");
            var parts = Ints(node, "split") ?? (Has(node, 1) ? Value(node, 1) : null);
            var count = parts?.Length ?? node.Output.Count;
            var result = new List<(long[], long[]?)>();
            for (var i = 0; i < count; i++)
            {
                var part = (long[])x.Clone();
                part[axis] = parts?[i] ?? (x[axis] + count - 1) / count;
                result.Add((part, null));
            }
            return result;
        }
    }
}
