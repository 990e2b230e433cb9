using EffNet.MLNet.Architecture;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// The unfolded parameters of one network under torchvision's tensor names: convolution kernels,
/// batch-norm scale and shift (trainable), batch-norm running statistics (buffers), the
/// squeeze-and-excitation biases and the linear classifier. Training changes these; inference
/// folds them (<see cref="ToNetworkWeights"/>) and hands them to the ordinary exporter.
/// </summary>
internal sealed class NetworkParameters
{
    private static readonly CheckpointNaming Naming = CheckpointNaming.Torchvision;

    private NetworkParameters(EfficientNetArchitecture architecture, int classes, double epsilon,
        Dictionary<string, float[]> values, Dictionary<string, int[]> shapes, List<string> trainableOrder, string source)
    {
        Architecture = architecture;
        Classes = classes;
        Epsilon = epsilon;
        Values = values;
        Shapes = shapes;
        Names = trainableOrder;
        Source = source;
    }

    public EfficientNetArchitecture Architecture { get; }

    public int Classes { get; }

    /// <summary>Batch-norm ε (torchvision's for the variant).</summary>
    public double Epsilon { get; }

    /// <summary>Every tensor, parameters and buffers, by torchvision name.</summary>
    public Dictionary<string, float[]> Values { get; }

    public Dictionary<string, int[]> Shapes { get; }

    /// <summary>Names of the parameters (not buffers), in network order.</summary>
    public IReadOnlyList<string> Names { get; }

    public string Source { get; }

    public static string ConvWeight(ConvLayer l) => Naming.ConvPrefix(l) + ".weight";

    public static string ConvBias(ConvLayer l) => Naming.ConvPrefix(l) + ".bias";

    public static string BatchNorm(ConvLayer l, string part) => Naming.BatchNormPrefix(l) + "." + part;

    public static string BatchNormPrefix(ConvLayer l) => Naming.BatchNormPrefix(l);

    public static string ClassifierWeight => Naming.ClassifierPrefix + ".weight";

    public static string ClassifierBias => Naming.ClassifierPrefix + ".bias";

    /// <summary>The parameter names that belong to one convolution (with its batch-norm).</summary>
    public static IEnumerable<string> LayerParameters(ConvLayer l) => l.HasBatchNorm
        ? [ConvWeight(l), BatchNorm(l, "weight"), BatchNorm(l, "bias")]
        : [ConvWeight(l), ConvBias(l)];

    /// <summary>
    /// Start from folded weights (random initialisation): each kernel keeps its values, batch-norm
    /// becomes the identity (statistics 0 and 1, γ = √(1 + ε)) with the folded bias as its shift;
    /// a new classifier is drawn LeCun-uniform like PyTorch's <c>nn.Linear</c>, seeded.
    /// </summary>
    public static NetworkParameters FromFolded(EfficientNetArchitecture architecture, NetworkWeights weights, int classes, int seed)
    {
        var epsilon = architecture.Variant.BatchNormEpsilon;
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var names = new List<string>();
        void Put(string name, float[] data, int[] shape, bool parameter = true)
        {
            values[name] = data;
            shapes[name] = shape;
            if (parameter) names.Add(name);
        }
        foreach (var l in architecture.ConvLayers)
        {
            var w = weights.Convolutions[l.Name];
            Put(ConvWeight(l), (float[])w.Kernel.Clone(), l.WeightShape);
            if (!l.HasBatchNorm)
            {
                Put(ConvBias(l), (float[])w.Bias.Clone(), [l.OutChannels]);
                continue;
            }
            Put(BatchNorm(l, "weight"), Enumerable.Repeat((float)Math.Sqrt(1 + epsilon), l.OutChannels).ToArray(), [l.OutChannels]);
            Put(BatchNorm(l, "bias"), (float[])w.Bias.Clone(), [l.OutChannels]);
            Put(BatchNorm(l, "running_mean"), new float[l.OutChannels], [l.OutChannels], parameter: false);
            Put(BatchNorm(l, "running_var"), Enumerable.Repeat(1f, l.OutChannels).ToArray(), [l.OutChannels], parameter: false);
        }
        var (cw, cb) = NewClassifier(architecture.FeatureDimension, classes, seed);
        Put(ClassifierWeight, cw, [classes, architecture.FeatureDimension]);
        Put(ClassifierBias, cb, [classes]);
        return new NetworkParameters(architecture, classes, epsilon, values, shapes, names, weights.Source);
    }

    /// <summary>
    /// Read a torchvision <c>state_dict</c> (.pth or .safetensors) unfolded. Its classifier is kept
    /// when it has <paramref name="classes"/> outputs, otherwise a new one is drawn.
    /// </summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing or of the wrong shape, or the names are not torchvision's.</exception>
    public static NetworkParameters FromTorchvisionCheckpoint(EfficientNetArchitecture architecture, string path, int classes, int seed)
    {
        using var index = CheckpointIndex.Open(path);
        var entries = index.Entries;
        if (!entries.ContainsKey("features.0.0.weight"))
            throw new CheckpointFormatException(path, "fine-tuning reads torchvision checkpoints (features.0.0.weight…); this one names its tensors otherwise.");
        var template = FromFolded(architecture, Identity(architecture), classes, seed);
        long elements = template.Values.Values.Sum(v => (long)v.Length);
        var budget = new ReadBudget(path, 2 * 4 * elements + (1 << 20), $"twice the float32 size of EfficientNet {architecture.Variant}");
        foreach (var (name, shape) in template.Shapes)
        {
            var isClassifier = name.StartsWith(Naming.ClassifierPrefix + ".", StringComparison.Ordinal);
            if (!entries.TryGetValue(name, out var entry))
            {
                if (isClassifier) continue;
                throw new CheckpointFormatException(path, $"tensor '{name}' with shape {CheckpointTensor.FormatShape(shape)} is missing; is this a torchvision checkpoint of EfficientNet {architecture.Variant}?");
            }
            if (!entry.Shape.SequenceEqual(shape))
            {
                if (isClassifier) continue;
                throw new CheckpointFormatException(path, $"tensor '{name}' has shape {CheckpointTensor.FormatShape(entry.Shape)} but EfficientNet {architecture.Variant} expects {CheckpointTensor.FormatShape(shape)}.");
            }
            template.Values[name] = index.Read(name, budget);
        }
        return new NetworkParameters(architecture, classes, template.Epsilon, template.Values, template.Shapes, [.. template.Names], path);
    }

    /// <summary>A deep copy (values only; names and shapes are shared, they never change).</summary>
    public NetworkParameters Clone() => new(Architecture, Classes, Epsilon,
        Values.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone(), StringComparer.Ordinal), Shapes, [.. Names], Source);

    /// <summary>Fold batch-norm into the kernels, as the checkpoint loader does, for the inference exporter.</summary>
    public NetworkWeights ToNetworkWeights(string source)
    {
        var convs = new Dictionary<string, ConvWeights>(StringComparer.Ordinal);
        foreach (var l in Architecture.ConvLayers)
            convs[l.Name] = Folded(l);
        return new NetworkWeights(convs, new ClassifierWeights((float[])Values[ClassifierWeight].Clone(), (float[])Values[ClassifierBias].Clone()), source);
    }

    /// <summary>One convolution with its batch-norm folded in.</summary>
    public ConvWeights Folded(ConvLayer l) => l.HasBatchNorm
        ? BatchNormFolding.Fold(Values[ConvWeight(l)], Values[BatchNorm(l, "weight")], Values[BatchNorm(l, "bias")],
            Values[BatchNorm(l, "running_mean")], Values[BatchNorm(l, "running_var")], Epsilon)
        : new ConvWeights(Values[ConvWeight(l)], Values[ConvBias(l)]);

    private static NetworkWeights Identity(EfficientNetArchitecture a) => new(
        a.ConvLayers.ToDictionary(l => l.Name, l => new ConvWeights(new float[l.WeightCount], new float[l.OutChannels]), StringComparer.Ordinal),
        null, "template");

    private static (float[] Weight, float[] Bias) NewClassifier(int features, int classes, int seed)
    {
        var random = new Random(seed);
        var bound = 1.0 / Math.Sqrt(features);
        var w = new float[classes * features];
        for (var i = 0; i < w.Length; i++) w[i] = (float)((2 * random.NextDouble() - 1) * bound);
        var b = new float[classes];
        for (var i = 0; i < b.Length; i++) b[i] = (float)((2 * random.NextDouble() - 1) * bound);
        return (w, b);
    }
}
