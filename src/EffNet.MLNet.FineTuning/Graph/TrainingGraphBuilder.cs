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
    private readonly TrainingGraphOptions _options;
    private readonly List<string> _buffers = [];
    private readonly List<BatchStatisticsLayer> _batchStatistics = [];
    private readonly List<DropPathInput> _dropPaths = [];
    private ClassifierDropoutInput? _dropout;

    private TrainingGraphBuilder(NetworkParameters p, Unfreeze unfreeze, TrainingGraphOptions options)
    {
        _g = new OnnxGraphBuilder($"efficientnet_{p.Architecture.Variant.Name}_training");
        _p = p;
        _unfreeze = unfreeze;
        _gradients = options.Gradients;
        _options = options;
    }

    /// <summary>
    /// Build the step for <paramref name="resolution"/>. Without <paramref name="gradients"/> the
    /// graph stops at the loss (evaluation), with the same inputs.
    /// </summary>
    public static TrainingGraph Build(NetworkParameters parameters, Unfreeze unfreeze, int resolution, double labelSmoothing, bool gradients = true) =>
        Build(parameters, unfreeze, resolution, new TrainingGraphOptions { LabelSmoothing = labelSmoothing, Gradients = gradients });

    /// <summary>Build the step for <paramref name="resolution"/> as <paramref name="options"/> say.</summary>
    public static TrainingGraph Build(NetworkParameters parameters, Unfreeze unfreeze, int resolution, TrainingGraphOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(unfreeze);
        ArgumentNullException.ThrowIfNull(options);
        if (resolution < 32) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "The resolution must be at least 32 pixels.");
        var labelSmoothing = options.LabelSmoothing;
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ArgumentOutOfRangeException(nameof(options), labelSmoothing, "Label smoothing lies in [0, 1).");
        if (!(options.DropPathRate >= 0 && options.DropPathRate < 1)) throw new ArgumentOutOfRangeException(nameof(options), options.DropPathRate, "The drop-path rate lies in [0, 1).");
        if (!(options.DropoutRate >= 0 && options.DropoutRate < 1)) throw new ArgumentOutOfRangeException(nameof(options), options.DropoutRate, "The dropout rate lies in [0, 1).");
        if (options.ClassWeights is { } w && (w.Count != parameters.Classes || w.Any(x => !(x >= 0 && float.IsFinite(x))) || w.All(x => x == 0)))
            throw new ArgumentOutOfRangeException(nameof(options), $"Class weights must be {parameters.Classes} finite non-negative numbers, not all zero.");
        var b = new TrainingGraphBuilder(parameters, unfreeze, options);
        var model = b.Emit(resolution, labelSmoothing);
        return new TrainingGraph(model, b._trainable, resolution, parameters.Classes, parameters.Architecture.FeatureDimension, options.Gradients)
        {
            Buffers = b._buffers,
            BatchStatistics = b._batchStatistics,
            DropPaths = b._dropPaths,
            Dropout = b._dropout,
        };
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
        for (var i = 0; i < a.Blocks.Count; i++) x = Block(a.Blocks[i], x, i, a.Blocks.Count);
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

    private Tensor Block(MBConvBlock block, Tensor input, int index, int blocks)
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
        if (!block.HasResidual) return x;
        // torchvision's efficientnet: stochastic_depth_prob · block_id / total_blocks, residual blocks only.
        var drop = _options.DropPathRate * index / blocks;
        if (drop > 0) x = DropPath(x, block, index, drop);
        return Add(x, input, block.Name + "_add");
    }

    // StochasticDepth "row": the residual branch times a per-image mask that is 0 or 1/(1 − p),
    // fed from outside so the same draw scales the forward and the backward pass.
    private Tensor DropPath(Tensor x, MBConvBlock block, int index, double probability)
    {
        var mask = "drop_path." + block.Name;
        _g.Input(mask, "batch", 1, 1, 1);
        _names.Add(mask);
        _dropPaths.Add(new DropPathInput(mask, index, probability));
        var y = x with { Name = Node("Mul", block.Name + "_drop_path", [x.Name, mask]) };
        Record(() =>
        {
            if (!_grads.TryGetValue(y.Name, out var dy) || !x.RequiresGrad) return;
            AddGrad(x.Name, Node("Mul", block.Name + "_drop_path_grad", [dy, mask]));
        });
        return y;
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
        else if (l.HasBatchNorm && !_options.TrainBatchNorm)
        {
            return FoldedBatchNormConv(l, x, outSize);
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
        if (!(trains && l.HasBatchNorm)) return z;
        return BatchNormTraining(l, z);
    }

    // A trained convolution followed by an evaluation-mode batch-norm, folded as the inference graph
    // folds it: y = conv(x, W·s) + t with s = γ/√(σ² + ε), t = β − μ·s per output channel. The
    // activations see one convolution and no affine pass. Backward, with dW' the gradient of the
    // folded kernel: dW = dW'·s, dβ = Σ dy, and since Σ dy·conv(x, W) = Σ dW'·W,
    // dγ = (Σ dW'·W − μ·Σ dy)/√(σ² + ε).
    private Tensor FoldedBatchNormConv(ConvLayer l, Tensor x, int outSize)
    {
        var c = l.OutChannels;
        var n = l.Name + "_bn";
        var weight = Parameter(NetworkParameters.ConvWeight(l));
        var gamma = Parameter(NetworkParameters.BatchNorm(l, "weight"));
        var beta = Parameter(NetworkParameters.BatchNorm(l, "bias"));
        var mean = Buffer(NetworkParameters.BatchNorm(l, "running_mean"));
        var variance = Buffer(NetworkParameters.BatchNorm(l, "running_var"));
        var invStd = Node("Reciprocal", n + "_invstd", [Node("Sqrt", n + "_std", [Node("Add", n + "_var_eps", [variance, Epsilon()])])]);
        var scale = Node("Mul", n + "_scale", [gamma, invStd]);
        var shift = Node("Sub", n + "_shift", [beta, Node("Mul", n + "_mean_scaled", [mean, scale])]);
        var scaleW = Node("Reshape", n + "_scale_w", [scale, Shape(c, 1, 1, 1)]);
        var folded = Node("Mul", n + "_folded_weight", [weight, scaleW]);
        var p = l.Padding;
        var y = new Tensor(Node("Conv", n, [x.Name, folded, shift],
            Ints("kernel_shape", l.Kernel, l.Kernel), Ints("strides", l.Stride, l.Stride),
            Ints("pads", p, p, p, p), Int("group", l.Groups)), c, outSize, RequiresGrad: true);

        Record(() =>
        {
            if (!_grads.TryGetValue(y.Name, out var dy)) return;
            var dBeta = ReduceSum(dy, n + "_beta_grad", keepDims: false, 0, 2, 3);
            AddGrad(beta, dBeta);
            var dFolded = WeightGradient(l, x, dy, outSize);
            AddGrad(weight, Node("Mul", l.Name + "_weight_grad_unfolded", [dFolded, scaleW]));
            var dScale = ReduceSum(Node("Mul", n + "_dfolded_weight", [dFolded, weight]), n + "_scale_grad_raw", keepDims: false, 1, 2, 3);
            var centred = Node("Sub", n + "_gamma_grad_centred", [dScale, Node("Mul", n + "_mean_beta_grad", [mean, dBeta])]);
            AddGrad(gamma, Node("Mul", n + "_gamma_grad", [centred, invStd]));
            if (x.RequiresGrad) AddGrad(x.Name, InputGradient(l, x, dy, outSize, folded));
        });
        return y;
    }

    // Training-mode batch-norm: x̂ = (z − μ_B)/√(σ²_B + ε) with the batch's mean and biased variance
    // over (N, H, W), y = γ·x̂ + β. Backward (M = N·H·W values per channel):
    // dz = γ/√(σ²_B + ε) · (dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
    private Tensor BatchNormTraining(ConvLayer l, Tensor z)
    {
        var c = l.OutChannels;
        var n = l.Name + "_bn";
        var gamma = Parameter(NetworkParameters.BatchNorm(l, "weight"));
        var beta = Parameter(NetworkParameters.BatchNorm(l, "bias"));
        var layer = new BatchStatisticsLayer(NetworkParameters.BatchNormPrefix(l), c, z.Size * z.Size);
        _batchStatistics.Add(layer);
        var mean = ReduceMean(z.Name, n + "_batch_mean_r", keepDims: true, 0, 2, 3);
        var centred = Node("Sub", n + "_centred", [z.Name, mean]);
        var variance = ReduceMean(Node("Mul", n + "_centred_sq", [centred, centred]), n + "_batch_var_r", keepDims: true, 0, 2, 3);
        var invStd = Node("Reciprocal", n + "_invstd", [Node("Sqrt", n + "_std", [Node("Add", n + "_var_eps", [variance, Epsilon()])])]);
        var normalised = Node("Mul", n + "_normalised", [centred, invStd]);
        var gammaR = Node("Reshape", n + "_gamma_r", [gamma, Shape(1, c, 1, 1)]);
        var betaR = Node("Reshape", n + "_beta_r", [beta, Shape(1, c, 1, 1)]);
        var y = z with { Name = Node("Add", n, [Node("Mul", n + "_scaled", [normalised, gammaR]), betaR]) };
        _g.Node("Reshape", layer.MeanOutput, [mean, Shape(c)]);
        _g.Node("Reshape", layer.VarianceOutput, [variance, Shape(c)]);
        _names.Add(layer.MeanOutput);
        _names.Add(layer.VarianceOutput);
        _g.Output(layer.MeanOutput, c);
        _g.Output(layer.VarianceOutput, c);

        Record(() =>
        {
            if (!_grads.TryGetValue(y.Name, out var dy)) return;
            AddGrad(beta, ReduceSum(dy, n + "_beta_grad", keepDims: false, 0, 2, 3));
            var dyX = Node("Mul", n + "_dy_normalised", [dy, normalised]);
            AddGrad(gamma, ReduceSum(dyX, n + "_gamma_grad", keepDims: false, 0, 2, 3));
            if (!z.RequiresGrad) return;
            var meanDy = ReduceMean(dy, n + "_mean_dy", keepDims: true, 0, 2, 3);
            var meanDyX = ReduceMean(dyX, n + "_mean_dy_normalised", keepDims: true, 0, 2, 3);
            var inner = Node("Sub", n + "_dy_centred", [Node("Sub", n + "_dy_minus_mean", [dy, meanDy]), Node("Mul", n + "_normalised_mean_dy_normalised", [normalised, meanDyX])]);
            AddGrad(z.Name, Node("Mul", n + "_input_grad", [inner, Node("Mul", n + "_gamma_invstd", [gammaR, invStd])]));
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
            var area = (long)outSize * outSize;
            var dz3 = Node("Reshape", n + "_dz", [dz, Shape(0, l.OutChannels, -1)]);
            var x3 = Node("Reshape", n + "_x", [x.Name, Shape(0, l.InChannels, -1)]);
            if ((l.OutChannels + l.InChannels) * area < (long)l.OutChannels * l.InChannels)
            {
                // Few positions, many channels (the late stages): with the batch beside the positions, one
                // product [O, N·S²]·[N·S², I] needs no [N, O, I] intermediate to sum; the transposes cost less.
                var dzFlat = Node("Reshape", n + "_dz_flat", [Node("Transpose", n + "_dz_channels_first", [dz3], Ints("perm", 1, 0, 2)), Shape(l.OutChannels, -1)]);
                var xFlat = Node("Reshape", n + "_x_flat", [Node("Transpose", n + "_x_channels_first", [x3], Ints("perm", 1, 0, 2)), Shape(l.InChannels, -1)]);
                var product = Node("Gemm", n + "_product", [dzFlat, xFlat], Int("transB", 1));
                return Node("Reshape", n, [product, Shape(l.OutChannels, l.InChannels, 1, 1)]);
            }
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
        var n = l.Name + "_input_grad";
        if (l.Kernel == 1 && l.Groups == 1 && l.Stride == 1)
        {
            // dx_n = Wᵀ · dz_n as one matrix product per image; ONNX Runtime's ConvTranspose would add a col2im pass.
            var wT = Node("Transpose", n + "_wT", [Node("Reshape", n + "_w", [weight, Shape(l.OutChannels, l.InChannels)])], Ints("perm", 1, 0));
            var dz3 = Node("Reshape", n + "_dz", [dz, Shape(0, l.OutChannels, -1)]);
            return Node("Reshape", n, [Node("MatMul", n + "_product", [wT, dz3]), Shape(0, l.InChannels, x.Size, x.Size)]);
        }
        if (l.Stride == 1 && l.Groups == l.InChannels && l.Groups == l.OutChannels && 2 * p == l.Kernel - 1)
        {
            // A stride-1 "same" depthwise convolution's input gradient is the same convolution with each
            // kernel rotated by 180°, which runs on ONNX Runtime's depthwise kernels instead of ConvTranspose's
            // per-channel products.
            var rotated = Node("Slice", n + "_rotated_weight", [weight, Int64Constant("minus_ones2", -1, -1),
                Int64Constant("int64_min2", long.MinValue, long.MinValue), Int64Constant("axes_2_3", 2, 3), Int64Constant("minus_ones2", -1, -1)]);
            return Node("Conv", n, [dz, rotated], Ints("kernel_shape", l.Kernel, l.Kernel), Ints("strides", 1, 1),
                Ints("pads", p, p, p, p), Int("group", l.Groups));
        }
        var extra = x.Size - (l.Stride * (outSize - 1) + l.Kernel - 2 * p);
        return Node("ConvTranspose", n, [dz, weight],
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
        var classified = features;
        string? mask = null;
        if (_options.DropoutRate > 0)
        {
            // The features output stays whole (what the head's trainer and evaluation read); only the classifier sees the mask.
            var width = _p.Architecture.FeatureDimension;
            _dropout = new ClassifierDropoutInput(mask = "dropout.classifier", width, _options.DropoutRate);
            _g.Input(mask, "batch", width);
            _names.Add(mask);
            classified = Node("Mul", "classifier_dropout", [features, mask]);
        }
        var logits = _g.Node("Gemm", TrainingGraph.Logits, [classified, w, b], Int("transB", 1));
        _names.Add(logits);
        _g.Output(TrainingGraph.Logits, "batch", _p.Classes);
        Record(() =>
        {
            var dl = _grads[logits];
            AddGrad(w, Node("Gemm", "classifier_weight_grad", [dl, classified], Int("transA", 1)));
            AddGrad(b, ReduceSum(dl, "classifier_bias_grad", keepDims: false, 0));
            if (!pooled.RequiresGrad) return;
            var df = Node("MatMul", "features_grad", [dl, w]);
            if (mask is not null) df = Node("Mul", "features_grad_dropout", [df, mask]);
            AddGrad(pooled.Name, Node("Reshape", "top_pool_out_grad", [df, Shape(0, _p.Architecture.FeatureDimension, 1, 1)]));
        });
        return logits;
    }

    // Mean over the batch of −Σ_k q_k·log softmax(z)_k, q = (1 − ε)·onehot + ε/K; its gradient
    // with respect to the logits is (softmax(z) − q)/N.
    private void Loss(string logits, double smoothing)
    {
        if (_options.ClassWeights is { } weights)
        {
            WeightedLoss(logits, smoothing, weights);
            return;
        }
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

    // PyTorch's CrossEntropyLoss(weight = w, label_smoothing = ε), mean reduction:
    // L = −(1/W) Σ_n Σ_k q_nk·log softmax(z_n)_k with q_nk = (1 − ε)·w_{y_n}·[k = y_n] + (ε/K)·w_k and
    // W = Σ_n w_{y_n} (the smoothing term is weighted by class and divided by the same W).
    // Its gradient with respect to z_n is (S_n·softmax(z_n) − q_n)/W, S_n = Σ_k q_nk.
    private void WeightedLoss(string logits, double smoothing, IReadOnlyList<float> weights)
    {
        var k = _p.Classes;
        var w = Constant("class_weights", [.. weights], 1, k);
        var onehot = Node("OneHot", "target_onehot", [TrainingGraph.Labels, Int64Constant("classes", k), Constant("onehot_values", [0f, 1f], 2)], Int("axis", -1));
        var targetWeight = ReduceSum(Node("Mul", "target_weight_k", [onehot, w]), "target_weight", keepDims: true, 1);
        var hit = Node("Mul", "target_hit", [onehot, Node("Mul", "target_hit_weight", [targetWeight, Constant("one_minus_smoothing", [(float)(1 - smoothing)], 1)])]);
        var target = Node("Add", "target", [hit, Node("Mul", "target_spread", [w, Constant("smoothing_per_class", [(float)(smoothing / k)], 1)])]);
        var logp = Node("LogSoftmax", "log_probabilities", [logits], Int("axis", 1));
        var total = ReduceSum(ReduceSum(Node("Mul", "target_log_probabilities", [target, logp]), "per_image_log_likelihood", keepDims: false, 1), "sum_log_likelihood", keepDims: false, 0);
        var inverse = Node("Reciprocal", "inverse_target_weight", [ReduceSum(targetWeight, "sum_target_weight", keepDims: false, 0, 1)]);
        _g.Node("Neg", TrainingGraph.Loss, [Node("Mul", "weighted_mean_log_likelihood", [total, inverse])]);
        _names.Add(TrainingGraph.Loss);
        _g.Output(TrainingGraph.Loss);
        if (!_gradients) return;
        var probabilities = Node("Softmax", "probabilities", [logits], Int("axis", 1));
        var mass = ReduceSum(target, "target_mass", keepDims: true, 1);
        var residual = Node("Sub", "probabilities_minus_target", [Node("Mul", "scaled_probabilities", [probabilities, mass]), target]);
        _grads[logits] = Node("Mul", "logits_grad", [residual, inverse]);
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

    private string Buffer(string name)
    {
        _g.Input(name, _p.Shapes[name].Select(d => (object)d).ToArray());
        _buffers.Add(name);
        _names.Add(name);
        return name;
    }

    private string Epsilon() => _int64Constants.TryGetValue("epsilon_f", out var n) ? n : _int64Constants["epsilon_f"] = Constant("bn_epsilon", [(float)_p.Epsilon], 1);

    private string ReduceMean(string x, string name, bool keepDims, params long[] axes) =>
        Node("ReduceMean", name, [x], Ints("axes", axes), Int("keepdims", keepDims ? 1 : 0));

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
