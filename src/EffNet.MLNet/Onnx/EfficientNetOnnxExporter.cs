using System.Globalization;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Weights;
using Google.Protobuf;
using Onnx;
using static EffNet.MLNet.Onnx.OnnxGraphBuilder;

namespace EffNet.MLNet.Onnx;

/// <summary>
/// Emits an EfficientNet feature extractor as one ONNX graph: input <c>pixels</c>
/// [N, 3, H, W] RGB in 0…255, normalisation inside, output <c>features</c> [N, D].
/// Node names follow the architecture's Keras-style layer names.
/// </summary>
public static class EfficientNetOnnxExporter
{
    /// <summary>Name of the graph input.</summary>
    public const string InputName = "pixels";

    /// <summary>Name of the graph output.</summary>
    public const string OutputName = "features";

    /// <summary>ONNX operator set the graph uses.</summary>
    public const int OpsetVersion = 17;

    /// <summary>
    /// Changes whenever a change to the emitted graph (this exporter, its layers, or the adapter around a
    /// bring-your-own model) alters the features, so that cached features of an earlier graph are not served.
    /// </summary>
    public const string GraphVersion = "1";

    /// <summary>The global pooling node after the last convolution; the int8 quantizer stops there.</summary>
    internal const string PoolNodeName = "top_pool";

    /// <summary>Build the graph.</summary>
    public static ModelProto Build(EfficientNetArchitecture architecture, NetworkWeights weights, FeatureExtractorOptions? options = null) =>
        Build(architecture, weights, options, calibration: false);

    /// <summary>
    /// With <paramref name="calibration"/>, every convolution's raw output is also a graph output
    /// and is followed by a per-channel scale and shift fed as inputs (<c>NAME.cal_scale</c>,
    /// <c>NAME.cal_shift</c>, [1, C, 1, 1]) — batch-norm's place, for data-dependent initialisation.
    /// </summary>
    internal static ModelProto Build(EfficientNetArchitecture architecture, NetworkWeights weights, FeatureExtractorOptions? options, bool calibration)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(weights);
        options ??= new FeatureExtractorOptions();
        var resolution = options.Resolution ?? architecture.Variant.Resolution;
        var inputSize = options.InputSize ?? resolution;
        if (resolution < 32) throw new ArgumentOutOfRangeException(nameof(options), resolution, "The resolution must be at least 32 pixels.");
        if (inputSize < resolution) throw new ArgumentOutOfRangeException(nameof(options), inputSize, $"The input size must be at least the resolution ({resolution}).");
        if (options.Mean.Count != 3 || options.Std.Count != 3 || options.Std.Any(s => !(s > 0)))
            throw new ArgumentException("Mean and Std need three channels each, with positive standard deviations.", nameof(options));

        var g = new OnnxGraphBuilder($"efficientnet_{architecture.Variant.Name}_features");
        g.Input(InputName, "batch", 3, inputSize, inputSize);

        var x = InputName;
        if (inputSize > resolution) x = g.CenterCrop(x, "center_crop", inputSize, resolution);
        x = Normalise(g, x, options);

        var emitter = new LayerEmitter(g, FoldInputScale(architecture, weights, options), calibration, architecture.Activation);
        x = emitter.ConvActivation(architecture.Stem, x);
        foreach (var block in architecture.Blocks)
            x = emitter.Block(block, x);
        x = emitter.ConvActivation(architecture.Head, x);

        var pool = options.Pooling == Pooling.Max ? "GlobalMaxPool" : "GlobalAveragePool";
        x = g.Node(pool, PoolNodeName, [x]);
        x = g.Node("Flatten", options.L2Normalize ? "top_flatten" : OutputName, [x], Int("axis", 1));
        if (options.L2Normalize)
        {
            var norm = g.Node("ReduceL2", "l2_norm", [x], Ints("axes", 1), Int("keepdims", 1));
            var safe = g.Node("Max", "l2_norm_floor", [norm, g.Initializer("l2_epsilon", [1e-12f])]);
            x = g.Node("Div", OutputName, [x, safe]);
        }
        g.Output(OutputName, "batch", architecture.FeatureDimension);

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "EffNet.MLNet",
            ProducerVersion = typeof(EfficientNetOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = $"EfficientNet {architecture.Variant} feature extractor; weights: {weights.Source}",
            Graph = g.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        AddMetadata(model, architecture, weights, options, resolution, inputSize);
        return model;
    }

    /// <summary>Build the graph and return its serialized bytes.</summary>
    public static byte[] ToBytes(EfficientNetArchitecture architecture, NetworkWeights weights, FeatureExtractorOptions? options = null) =>
        Build(architecture, weights, options).ToByteArray();

    /// <summary>Build the graph and write it to <paramref name="path"/> (through a temporary file, so a failure leaves nothing half-written).</summary>
    public static void Save(EfficientNetArchitecture architecture, NetworkWeights weights, string path, FeatureExtractorOptions? options = null)
    {
        var bytes = ToBytes(architecture, weights, options);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    // (x/255 − mean)/std = (x − 255·mean) · 1/(255·std). The subtraction stays in the graph so the
    // stem's zero padding still means "the mean colour"; the scale commutes with zero padding and
    // is folded into the stem kernel, one full-image pass fewer than a separate Mul.
    private static string Normalise(OnnxGraphBuilder g, string input, FeatureExtractorOptions o)
    {
        var shift = o.Mean.Select(m => (float)(-255.0 * m)).ToArray();
        return g.Node("Add", "normalize", [input, g.Initializer("normalize_shift_value", shift, 1, 3, 1, 1)]);
    }

    private static NetworkWeights FoldInputScale(EfficientNetArchitecture a, NetworkWeights weights, FeatureExtractorOptions o)
    {
        if (!weights.Convolutions.TryGetValue(a.Stem.Name, out var stem) || stem.Kernel.Length != a.Stem.WeightCount)
            throw new ArgumentException($"The weights from {weights.Source} have no valid entry for layer '{a.Stem.Name}'.", nameof(weights));
        var perInput = a.Stem.Kernel * a.Stem.Kernel;
        var kernel = new float[stem.Kernel.Length];
        for (var i = 0; i < kernel.Length; i++)
            kernel[i] = (float)(stem.Kernel[i] / (255.0 * o.Std[i / perInput % 3]));
        var convolutions = new Dictionary<string, ConvWeights>(weights.Convolutions) { [a.Stem.Name] = stem with { Kernel = kernel } };
        return weights with { Convolutions = convolutions };
    }

    private static void AddMetadata(ModelProto model, EfficientNetArchitecture a, NetworkWeights w, FeatureExtractorOptions o, int resolution, int inputSize)
    {
        var inv = CultureInfo.InvariantCulture;
        void Put(string key, string value) => model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        Put("effnet.variant", a.Variant.Name);
        Put("effnet.width", a.Variant.WidthMultiplier.ToString("R", inv));
        Put("effnet.depth", a.Variant.DepthMultiplier.ToString("R", inv));
        Put("effnet.resolution", resolution.ToString(inv));
        Put("effnet.input_size", inputSize.ToString(inv));
        Put("effnet.pooling", o.Pooling.ToString().ToLowerInvariant());
        Put("effnet.l2_normalize", o.L2Normalize ? "true" : "false");
        Put("effnet.weights", w.Source);
        Put("effnet.weights_family", w.Family.DisplayName());
        Put("effnet.input_range", "0-255 RGB, normalised inside the graph");
    }

    private sealed class LayerEmitter(OnnxGraphBuilder g, NetworkWeights weights, bool calibration, Activation activation)
    {
        public string Block(MBConvBlock block, string input)
        {
            var x = input;
            // MBConv's 1×1 expand, or Fused-MBConv's k×k convolution (the whole block when it does not expand).
            if (block.Expand is not null) x = ConvActivation(block.Expand, x);
            if (block.Depthwise is not null) x = ConvActivation(block.Depthwise, x);

            if (block.SqueezeReduce is not null && block.SqueezeExpand is not null)
            {
                // The squeeze-and-excitation's inner activation is SiLU in every family that has one.
                var squeezed = g.Node("GlobalAveragePool", block.Name + "_se_squeeze", [x]);
                var reduced = Silu(Conv(block.SqueezeReduce, squeezed), block.SqueezeReduce.Name);
                var gate = g.Node("Sigmoid", block.Name + "_se_gate", [Conv(block.SqueezeExpand, reduced)]);
                x = g.Node("Mul", block.Name + "_se_excite", [x, gate]);
            }

            if (block.Project is not null) x = Conv(block.Project, x);
            return block.HasResidual ? g.Node("Add", block.Name + "_add", [x, input]) : x;
        }

        public string ConvActivation(ConvLayer layer, string input) => activation == Activation.ReLU6
            ? ReLU6(Conv(layer, input), layer.Name)
            : Silu(Conv(layer, input), layer.Name);

        private string Conv(ConvLayer layer, string input)
        {
            if (!weights.Convolutions.TryGetValue(layer.Name, out var w))
                throw new ArgumentException($"The weights from {weights.Source} have no entry for layer '{layer.Name}'.", nameof(weights));
            if (w.Kernel.Length != layer.WeightCount || w.Bias.Length != layer.OutChannels)
                throw new ArgumentException($"The weights from {weights.Source} for layer '{layer.Name}' have the wrong size.", nameof(weights));
            var kernel = g.Initializer(layer.Name + ".weight", w.Kernel, layer.WeightShape.Select(d => (long)d).ToArray());
            var bias = g.Initializer(layer.Name + ".bias", w.Bias, layer.OutChannels);
            var p = layer.Padding;
            // TensorFlow's SAME puts the odd pixel of padding after the image (SAME_UPPER); for a
            // stride-2 layer on an even side that is one pixel at the bottom/right and none on top.
            var padding = weights.Family.Padding() == ConvPadding.TensorFlowSame
                ? Text("auto_pad", "SAME_UPPER")
                : Ints("pads", p, p, p, p);
            var conv = g.Node("Conv", layer.Name, [input, kernel, bias],
                Ints("kernel_shape", layer.Kernel, layer.Kernel),
                Ints("strides", layer.Stride, layer.Stride),
                padding,
                Int("group", layer.Groups));
            if (!calibration) return conv;
            g.Output(conv);
            g.Input(layer.Name + ".cal_scale", 1, layer.OutChannels, 1, 1);
            g.Input(layer.Name + ".cal_shift", 1, layer.OutChannels, 1, 1);
            var scaled = g.Node("Mul", layer.Name + "_cal_scaled", [conv, layer.Name + ".cal_scale"]);
            return g.Node("Add", layer.Name + "_cal_shifted", [scaled, layer.Name + ".cal_shift"]);
        }

        private (string Min, string Max)? _relu6Bounds;

        private string ReLU6(string input, string name)
        {
            var (min, max) = _relu6Bounds ??= (g.Initializer("relu6_min", [0f]), g.Initializer("relu6_max", [6f]));
            return g.Node("Clip", name + "_activation", [input, min, max]);
        }

        // SiLU as x·σ(x): ONNX Runtime fuses the pair, and every runtime understands it.
        private string Silu(string input, string name) =>
            g.Node("Mul", name + "_activation", [input, g.Node("Sigmoid", name + "_sigmoid", [input])]);
    }
}
