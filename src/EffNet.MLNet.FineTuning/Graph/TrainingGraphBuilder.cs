using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using Onnx;
using static EffNet.MLNet.Onnx.OnnxGraphBuilder;

namespace EffNet.MLNet.FineTuning.Graph;

/// <summary>
/// Emits the forward pass of an <see cref="EfficientNetArchitecture"/> (the same description the
/// inference exporter walks) with batch-norm in evaluation mode, softmax cross-entropy with label
/// smoothing, and — in reverse order of the forward nodes, each recorded with its closed-form
/// gradient — the backward pass down to the lowest trainable layer.
/// </summary>
internal sealed class TrainingGraphBuilder
{
    private readonly OnnxGraphBuilder _g;
    private readonly NetworkParameters _p;
    private readonly Unfreeze _unfreeze;
    private readonly bool _gradients;
    private readonly List<Action> _backward = [];
    private readonly Dictionary<string, string> _grads = new(StringComparer.Ordinal);
    private readonly List<string> _trainable = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _int64Constants = new(StringComparer.Ordinal);

    private TrainingGraphBuilder(NetworkParameters p, Unfreeze unfreeze, bool gradients)
    {
        _g = new OnnxGraphBuilder($"efficientnet_{p.Architecture.Variant.Name}_training");
        _p = p;
        _unfreeze = unfreeze;
        _gradients = gradients;
    }

    /// <summary>
    /// Build the step for <paramref name="resolution"/>. Without <paramref name="gradients"/> the
    /// graph stops at the loss (evaluation), with the same inputs.
    /// </summary>
    public static TrainingGraph Build(NetworkParameters parameters, Unfreeze unfreeze, int resolution, double labelSmoothing, bool gradients = true)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(unfreeze);
        if (resolution < 32) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "The resolution must be at least 32 pixels.");
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing lies in [0, 1).");
        var b = new TrainingGraphBuilder(parameters, unfreeze, gradients);
        var model = b.Emit(resolution, labelSmoothing);
        return new TrainingGraph(model, b._trainable, resolution, parameters.Classes, parameters.Architecture.FeatureDimension, gradients);
    }

    /// <summary>An activation [N, C, S, S]; the batch is left to run time.</summary>
    private sealed record Tensor(string Name, int Channels, int Size, bool RequiresGrad);

    private ModelProto Emit(int resolution, double smoothing)
    {
        var a = _p.Architecture;
        _g.Input(TrainingGraph.Pixels, "batch", 3, resolution, resolution);
        _g.Graph.Input.Add(new ValueInfoProto
        {
            Name = TrainingGraph.Labels,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Int64, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "batch" } } } } },
        });

        var x = Normalise(new Tensor(TrainingGraph.Pixels, 3, resolution, false));
        x = Silu(Conv(a.Stem, x));
        foreach (var block in a.Blocks) x = Block(block, x);
        x = Silu(Conv(a.Head, x));
        var logits = Classifier(x);
        Loss(logits, smoothing);

        if (_gradients)
        {
            for (var i = _backward.Count - 1; i >= 0; i--) _backward[i]();
            foreach (var name in _trainable)
            {
                if (!_grads.TryGetValue(name, out var grad))
                    throw new InvalidOperationException($"No gradient reached '{name}'.");
                _g.Node("Identity", TrainingGraph.GradientOf(name), [grad]);
                _g.Output(TrainingGraph.GradientOf(name), _p.Shapes[name].Select(d => (object)d).ToArray());
            }
        }

        var model = new ModelProto { IrVersion = 8, ProducerName = "EffNet.MLNet.FineTuning", Graph = _g.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = EfficientNetOnnxExporter.OpsetVersion });
        return model;
    }

    // (x/255 − mean)/std as the inference graph computes it, but with the 1/(255·std) scale kept
    // as its own node: here the stem kernel is a parameter in torchvision's units.
    private Tensor Normalise(Tensor pixels)
    {
        var mean = new[] { 0.485, 0.456, 0.406 };
        var std = new[] { 0.229, 0.224, 0.225 };
        var shift = Constant("normalize_shift", mean.Select(m => (float)(-255.0 * m)).ToArray(), 1, 3, 1, 1);
        var scale = Constant("normalize_scale", std.Select(s => (float)(1.0 / (255.0 * s))).ToArray(), 1, 3, 1, 1);
        var shifted = Node("Add", "normalize", [pixels.Name, shift]);
        return pixels with { Name = Node("Mul", "normalize_scaled", [shifted, scale]) };
    }

    private Tensor Block(MBConvBlock block, Tensor input)
    {
        // FineTuner refuses the other families before a graph is built; this is the B family's MBConv.
        if (block.Depthwise is null || block.SqueezeReduce is null || block.SqueezeExpand is null || block.Project is null)
            throw new NotSupportedException($"The training graph has no gradients for block {block.Name} ({block.Kind}, squeeze-and-excitation: {block.HasSqueezeExcite}).");
        var x = input;
        if (block.Expand is not null) x = Silu(Conv(block.Expand, x));
        x = Silu(Conv(block.Depthwise, x));

        var squeezed = GlobalAveragePool(x, block.Name + "_se_squeeze");
        var reduced = Silu(Conv(block.SqueezeReduce, squeezed));
        var gate = Sigmoid(Conv(block.SqueezeExpand, reduced), block.Name + "_se_gate");
        x = ScaleChannels(x, gate, block.Name + "_se_excite");

        x = Conv(block.Project, x);
        return block.HasResidual ? Add(x, input, block.Name + "_add") : x;
    }

    // ---- Convolution with its batch-norm -------------------------------------------------

    private Tensor Conv(ConvLayer l, Tensor x)
    {
        var trains = _unfreeze.Trains(l);
        var outSize = l.OutputSize(x.Size);
        string weight, bias;
        if (!trains)
        {
            var folded = _p.Folded(l);
            weight = _g.Initializer(l.Name + ".folded_weight", folded.Kernel, l.WeightShape.Select(d => (long)d).ToArray());
            bias = _g.Initializer(l.Name + ".folded_bias", folded.Bias, l.OutChannels);
        }
        else
        {
            weight = Parameter(NetworkParameters.ConvWeight(l));
            bias = l.HasBatchNorm ? "" : Parameter(NetworkParameters.ConvBias(l));
        }
        var p = l.Padding;
        string[] inputs = bias.Length > 0 ? [x.Name, weight, bias] : [x.Name, weight];
        var z = new Tensor(Node("Conv", l.Name, inputs,
            Ints("kernel_shape", l.Kernel, l.Kernel), Ints("strides", l.Stride, l.Stride),
            Ints("pads", p, p, p, p), Int("group", l.Groups)), l.OutChannels, outSize, x.RequiresGrad || trains);

        Record(() =>
        {
            if (!_grads.TryGetValue(z.Name, out var dz)) return;
            if (trains && !l.HasBatchNorm) AddGrad(bias, ReduceSum(dz, l.Name + "_bias_grad", keepDims: false, 0, 2, 3));
            if (trains) AddGrad(weight, WeightGradient(l, x, dz, outSize));
            if (x.RequiresGrad) AddGrad(x.Name, InputGradient(l, x, dz, outSize, weight));
        });
        return trains && l.HasBatchNorm ? BatchNorm(l, z) : z;
    }

    // Evaluation-mode batch-norm as a per-channel affine map of the running statistics:
    // y = z·s + t with s = γ/√(σ² + ε), t = β − μ·s.
    private Tensor BatchNorm(ConvLayer l, Tensor z)
    {
        var c = l.OutChannels;
        var gamma = Parameter(NetworkParameters.BatchNorm(l, "weight"));
        var beta = Parameter(NetworkParameters.BatchNorm(l, "bias"));
        var mean = _p.Values[NetworkParameters.BatchNorm(l, "running_mean")];
        var variance = _p.Values[NetworkParameters.BatchNorm(l, "running_var")];
        var invStd = variance.Select(v => (float)(1.0 / Math.Sqrt(v + _p.Epsilon))).ToArray();
        var meanC = Constant(l.Name + ".bn_mean", mean, c);
        var meanR = Constant(l.Name + ".bn_mean_r", mean, 1, c, 1, 1);
        var invStdC = Constant(l.Name + ".bn_invstd", invStd, c);

        var scale = Node("Mul", l.Name + "_bn_scale", [gamma, invStdC]);
        var shift = Node("Sub", l.Name + "_bn_shift", [beta, Node("Mul", l.Name + "_bn_mean_scaled", [meanC, scale])]);
        var scaleR = Node("Reshape", l.Name + "_bn_scale_r", [scale, Shape(1, c, 1, 1)]);
        var shiftR = Node("Reshape", l.Name + "_bn_shift_r", [shift, Shape(1, c, 1, 1)]);
        var y = z with { Name = Node("Add", l.Name + "_bn", [Node("Mul", l.Name + "_bn_scaled", [z.Name, scaleR]), shiftR]) };

        Record(() =>
        {
            if (!_grads.TryGetValue(y.Name, out var dy)) return;
            AddGrad(beta, ReduceSum(dy, l.Name + "_bn_beta_grad", keepDims: false, 0, 2, 3));
            var centred = Node("Sub", l.Name + "_bn_centred", [z.Name, meanR]);
            var raw = ReduceSum(Node("Mul", l.Name + "_bn_dy_centred", [dy, centred]), l.Name + "_bn_gamma_raw", keepDims: false, 0, 2, 3);
            AddGrad(gamma, Node("Mul", l.Name + "_bn_gamma_grad", [raw, invStdC]));
            AddGrad(z.Name, Node("Mul", l.Name + "_bn_input_grad", [dy, scaleR]));
        });
        return y;
    }

    // dW[o, i, u, v] = Σ dz[n, o, y, x] · x_pad[n, i, s·y + u, s·x + v].
    private string WeightGradient(ConvLayer l, Tensor x, string dz, int outSize)
    {
        var n = l.Name + "_weight_grad";
        if (l.Kernel == 1 && l.Groups == 1 && l.Stride == 1)
        {
            // A 1×1 convolution is a matrix product per image: dW = Σ_n dz_n · x_nᵀ.
            var dz3 = Node("Reshape", n + "_dz", [dz, Shape(0, l.OutChannels, -1)]);
            var x3 = Node("Reshape", n + "_x", [x.Name, Shape(0, l.InChannels, -1)]);
            var xT = Node("Transpose", n + "_xT", [x3], Ints("perm", 0, 2, 1));
            var perImage = Node("MatMul", n + "_per_image", [dz3, xT]);
            var sum = ReduceSum(perImage, n + "_sum", keepDims: false, 0);
            return Node("Reshape", n, [sum, Shape(l.OutChannels, l.InChannels, 1, 1)]);
        }
        // Otherwise a convolution of the input by the output gradient, the batch axis playing
        // the channels' part and the stride becoming a dilation; the result is sliced to k×k.
        var p = l.Padding;
        var full = x.Size + 2 * p - l.Stride * (outSize - 1);
        var dzT = Node("Transpose", n + "_dzT", [dz], Ints("perm", 1, 0, 2, 3));
        var xT2 = Node("Transpose", n + "_xT", [x.Name], Ints("perm", 1, 0, 2, 3));
        if (l.Groups == 1)
        {
            var c = Node("Conv", n + "_conv", [xT2, dzT], Ints("strides", 1, 1), Ints("dilations", l.Stride, l.Stride), Ints("pads", p, p, p, p));
            var sliced = full == l.Kernel ? c : Slice(c, n + "_slice", l.Kernel);
            return Node("Transpose", n, [sliced], Ints("perm", 1, 0, 2, 3));
        }
        if (l.Groups != l.InChannels || l.Groups != l.OutChannels)
            throw new NotSupportedException($"Layer '{l.Name}': grouped convolutions other than depthwise have no gradient here.");
        var stacked = Node("Reshape", n + "_x_stacked", [xT2, Shape(1, -1, x.Size, x.Size)]);
        var conv = Node("Conv", n + "_conv", [stacked, dzT], Ints("strides", 1, 1), Ints("dilations", l.Stride, l.Stride),
            Ints("pads", p, p, p, p), Int("group", l.Groups));
        var cut = full == l.Kernel ? conv : Slice(conv, n + "_slice", l.Kernel);
        return Node("Reshape", n, [cut, Shape(l.OutChannels, 1, l.Kernel, l.Kernel)]);
    }

    // dx = ConvTranspose(dz, W) with the forward's groups, stride and padding; output_padding
    // restores the row and column a stride-2 convolution of an even side never reached.
    private string InputGradient(ConvLayer l, Tensor x, string dz, int outSize, string weight)
    {
        var p = l.Padding;
        var extra = x.Size - (l.Stride * (outSize - 1) + l.Kernel - 2 * p);
        return Node("ConvTranspose", l.Name + "_input_grad", [dz, weight],
            Ints("kernel_shape", l.Kernel, l.Kernel), Ints("strides", l.Stride, l.Stride), Ints("pads", p, p, p, p),
            Ints("output_padding", extra, extra), Int("group", l.Groups));
    }

    // ---- Element-wise and pooling --------------------------------------------------------

    // SiLU y·σ(y); its derivative σ + y·σ·(1 − σ) = σ + a·(1 − σ) with a the output.
    private Tensor Silu(Tensor y)
    {
        var s = Node("Sigmoid", y.Name + "_sigmoid", [y.Name]);
        var a = y with { Name = Node("Mul", y.Name + "_activation", [y.Name, s]) };
        Record(() =>
        {
            if (!_grads.TryGetValue(a.Name, out var da) || !y.RequiresGrad) return;
            var oneMinus = Node("Sub", a.Name + "_one_minus_s", [One(), s]);
            var slope = Node("Add", a.Name + "_slope", [s, Node("Mul", a.Name + "_a_one_minus_s", [a.Name, oneMinus])]);
            AddGrad(y.Name, Node("Mul", a.Name + "_grad", [da, slope]));
        });
        return a;
    }

    private Tensor Sigmoid(Tensor e, string name)
    {
        var s = e with { Name = Node("Sigmoid", name, [e.Name]) };
        Record(() =>
        {
            if (!_grads.TryGetValue(s.Name, out var ds) || !e.RequiresGrad) return;
            var slope = Node("Mul", name + "_slope", [s.Name, Node("Sub", name + "_one_minus", [One(), s.Name])]);
            AddGrad(e.Name, Node("Mul", name + "_grad", [ds, slope]));
        });
        return s;
    }

    private Tensor GlobalAveragePool(Tensor x, string name)
    {
        var pooled = new Tensor(Node("GlobalAveragePool", name, [x.Name]), x.Channels, 1, x.RequiresGrad);
        Record(() =>
        {
            if (!_grads.TryGetValue(pooled.Name, out var dp) || !x.RequiresGrad) return;
            // Broadcast back over the S×S positions, each 1/S² of the pooled gradient.
            AddGrad(x.Name, Node("Mul", name + "_grad", [dp, Constant(name + "_inverse_area", [1f / (x.Size * x.Size)])]));
        });
        return pooled;
    }

    // x [N, C, S, S] times a per-image, per-channel gate [N, C, 1, 1].
    private Tensor ScaleChannels(Tensor x, Tensor gate, string name)
    {
        var y = x with { Name = Node("Mul", name, [x.Name, gate.Name]), RequiresGrad = x.RequiresGrad || gate.RequiresGrad };
        Record(() =>
        {
            if (!_grads.TryGetValue(y.Name, out var dy)) return;
            if (x.RequiresGrad) AddGrad(x.Name, Node("Mul", name + "_x_grad", [dy, gate.Name]));
            if (gate.RequiresGrad)
                AddGrad(gate.Name, ReduceSum(Node("Mul", name + "_dy_x", [dy, x.Name]), name + "_gate_grad", keepDims: true, 2, 3));
        });
        return y;
    }

    private Tensor Add(Tensor a, Tensor b, string name)
    {
        var y = a with { Name = Node("Add", name, [a.Name, b.Name]), RequiresGrad = a.RequiresGrad || b.RequiresGrad };
        Record(() =>
        {
            if (!_grads.TryGetValue(y.Name, out var dy)) return;
            if (a.RequiresGrad) AddGrad(a.Name, dy);
            if (b.RequiresGrad) AddGrad(b.Name, dy);
        });
        return y;
    }

    // ---- Classifier and loss ---------------------------------------------------------------

    private string Classifier(Tensor top)
    {
        var pooled = GlobalAveragePool(top, "top_pool");
        var features = _g.Node("Flatten", TrainingGraph.Features, [pooled.Name], Int("axis", 1));
        _names.Add(features);
        _g.Output(TrainingGraph.Features, "batch", _p.Architecture.FeatureDimension);
        var w = Parameter(NetworkParameters.ClassifierWeight);
        var b = Parameter(NetworkParameters.ClassifierBias);
        var logits = _g.Node("Gemm", TrainingGraph.Logits, [features, w, b], Int("transB", 1));
        _names.Add(logits);
        _g.Output(TrainingGraph.Logits, "batch", _p.Classes);
        Record(() =>
        {
            var dl = _grads[logits];
            AddGrad(w, Node("Gemm", "classifier_weight_grad", [dl, features], Int("transA", 1)));
            AddGrad(b, ReduceSum(dl, "classifier_bias_grad", keepDims: false, 0));
            if (!pooled.RequiresGrad) return;
            var df = Node("MatMul", "features_grad", [dl, w]);
            AddGrad(pooled.Name, Node("Reshape", "top_pool_out_grad", [df, Shape(0, _p.Architecture.FeatureDimension, 1, 1)]));
        });
        return logits;
    }

    // Mean over the batch of −Σ_k q_k·log softmax(z)_k, q = (1 − ε)·onehot + ε/K; its gradient
    // with respect to the logits is (softmax(z) − q)/N.
    private void Loss(string logits, double smoothing)
    {
        var k = _p.Classes;
        var off = (float)(smoothing / k);
        var on = (float)(1 - smoothing + smoothing / k);
        var target = Node("OneHot", "target", [TrainingGraph.Labels, Int64Constant("classes", k), Constant("target_values", [off, on], 2)], Int("axis", -1));
        var logp = Node("LogSoftmax", "log_probabilities", [logits], Int("axis", 1));
        var perImage = ReduceSum(Node("Mul", "target_log_probabilities", [target, logp]), "per_image_log_likelihood", keepDims: false, 1);
        var mean = Node("ReduceMean", "mean_log_likelihood", [perImage], Int("keepdims", 0));
        _g.Node("Neg", TrainingGraph.Loss, [mean]);
        _names.Add(TrainingGraph.Loss);
        _g.Output(TrainingGraph.Loss);
        if (!_gradients) return;
        var batch = Node("Cast", "batch_size", [Node("Shape", "labels_shape", [TrainingGraph.Labels])], Int("to", (long)TensorProto.Types.DataType.Float));
        var inverse = Node("Reciprocal", "inverse_batch", [batch]);
        var probabilities = Node("Softmax", "probabilities", [logits], Int("axis", 1));
        _grads[logits] = Node("Mul", "logits_grad", [Node("Sub", "probabilities_minus_target", [probabilities, target]), inverse]);
    }

    // ---- Plumbing -------------------------------------------------------------------------

    private void Record(Action backward)
    {
        if (_gradients) _backward.Add(backward);
    }

    private string Parameter(string name)
    {
        _g.Input(name, _p.Shapes[name].Select(d => (object)d).ToArray());
        _trainable.Add(name);
        _names.Add(name);
        return name;
    }

    private void AddGrad(string tensor, string grad)
    {
        _grads[tensor] = _grads.TryGetValue(tensor, out var existing)
            ? Node("Add", tensor + "_grad_sum", [existing, grad])
            : grad;
    }

    private string Node(string op, string name, string[] inputs, params AttributeProto[] attributes) =>
        _g.Node(op, Unique(name), inputs, attributes);

    private string Unique(string name)
    {
        var candidate = name;
        for (var i = 2; !_names.Add(candidate); i++) candidate = name + "_" + i;
        return candidate;
    }

    private string Constant(string name, float[] values, params long[] dims) =>
        _g.Initializer(Unique(name), values, dims.Length == 0 ? [values.Length] : dims);

    private string One() => _int64Constants.TryGetValue("one_f", out var n) ? n : _int64Constants["one_f"] = Constant("one", [1f], 1);

    private string Int64Constant(string key, params long[] values)
    {
        var id = key + ":" + string.Join(",", values);
        return _int64Constants.TryGetValue(id, out var n) ? n : _int64Constants[id] = _g.Int64Initializer(Unique(key), values);
    }

    private string Shape(params long[] dims) => Int64Constant("shape_" + string.Join("x", dims).Replace("-", "m", StringComparison.Ordinal), dims);

    private string ReduceSum(string x, string name, bool keepDims, params long[] axes) =>
        Node("ReduceSum", name, [x, Int64Constant("axes_" + string.Join("_", axes), axes)], Int("keepdims", keepDims ? 1 : 0));

    private string Slice(string x, string name, int size) =>
        Node("Slice", name, [x, Int64Constant("zeros2", 0, 0), Int64Constant("ends" + size, size, size), Int64Constant("axes_2_3", 2, 3)]);
}
