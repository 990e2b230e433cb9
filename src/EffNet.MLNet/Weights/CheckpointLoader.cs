using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Weights;

/// <summary>
/// Matches a checkpoint's tensors to an architecture's layers, checks every shape, and folds
/// batch-norm into the convolutions. Every name and shape is checked before any tensor data
/// is read, and the data read is capped near what the architecture holds, so a file that
/// describes a larger network (or a crafted one that describes gigabytes) is refused without
/// allocating for it.
/// </summary>
public static class CheckpointLoader
{
    /// <summary>The most classes a checkpoint's classifier may have (ImageNet-21k has 21,843).</summary>
    public const int MaxClasses = 32_768;

    private static readonly string[] BatchNormParts = ["weight", "bias", "running_mean", "running_var"];

    /// <summary>Read <paramref name="path"/> and map it onto <paramref name="architecture"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a usable checkpoint, or does not fit the architecture.</exception>
    public static NetworkWeights Load(EfficientNetArchitecture architecture, string path, CheckpointNaming? naming = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        using var index = CheckpointIndex.Open(path);
        return Map(architecture, index, naming);
    }

    /// <summary>Map already-read tensors onto <paramref name="architecture"/>.</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing, extra, or of the wrong shape.</exception>
    public static NetworkWeights FromTensors(
        EfficientNetArchitecture architecture, IReadOnlyDictionary<string, CheckpointTensor> tensors, string source, CheckpointNaming? naming = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(tensors);
        using var index = new InMemoryCheckpoint(source, tensors);
        return Map(architecture, index, naming);
    }

    private static NetworkWeights Map(EfficientNetArchitecture architecture, CheckpointIndex index, CheckpointNaming? naming)
    {
        var plan = Plan(architecture, index, naming);
        // Twice the float32 size covers a float64 checkpoint; the margin covers nothing a real file needs.
        var limit = 2 * 4 * plan.Elements + (1 << 20);
        var budget = new ReadBudget(index.Path, limit,
            $"twice the float32 size of the {plan.Elements:N0} values EfficientNet {architecture.Variant} takes from it");
        float[] Read(string key) => index.Read(key, budget);

        var convs = new Dictionary<string, ConvWeights>(StringComparer.Ordinal);
        foreach (var (layer, keys) in plan.Layers)
        {
            var kernel = Read(keys[0]);
            convs[layer.Name] = layer.HasBatchNorm
                ? BatchNormFolding.Fold(kernel, Read(keys[1]), Read(keys[2]), Read(keys[3]), Read(keys[4]), architecture.Variant.BatchNormEpsilon)
                : new ConvWeights(kernel, Read(keys[1]));
        }
        var classifier = plan.Classifier is { } c ? new ClassifierWeights(Read(c.Weight), Read(c.Bias)) : null;
        return new NetworkWeights(convs, classifier, index.Path);
    }

    private sealed record LoadPlan(List<(ConvLayer Layer, string[] Keys)> Layers, (string Weight, string Bias)? Classifier, long Elements);

    // Which tensor goes where, with every name and shape checked; reads no data.
    private static LoadPlan Plan(EfficientNetArchitecture architecture, CheckpointIndex index, CheckpointNaming? naming)
    {
        var tensors = index.Entries;
        var source = index.Path;
        naming ??= CheckpointNaming.Detect(tensors.Keys) ?? throw new CheckpointFormatException(source,
            $"the tensor names follow neither torchvision (features.0.0.weight…) nor timm (conv_stem.weight…); the first are: {string.Join(", ", tensors.Keys.Take(5))}.");

        var used = new HashSet<string>(StringComparer.Ordinal);
        long elements = 0;
        string Take(string key, int[] shape)
        {
            if (!tensors.TryGetValue(key, out var t))
                throw new CheckpointFormatException(source,
                    $"tensor '{key}' with shape {CheckpointTensor.FormatShape(shape)} is missing; is this a {naming.Name} checkpoint of EfficientNet {architecture.Variant}?");
            if (!t.Shape.SequenceEqual(shape))
                throw new CheckpointFormatException(source,
                    $"tensor '{key}' has shape {CheckpointTensor.FormatShape(t.Shape)} but EfficientNet {architecture.Variant} expects {CheckpointTensor.FormatShape(shape)}; the checkpoint is for another variant.");
            used.Add(key);
            elements += t.ElementCount;
            return key;
        }

        var layers = new List<(ConvLayer, string[])>();
        foreach (var layer in architecture.ConvLayers)
        {
            var conv = naming.ConvPrefix(layer);
            var kernel = Take(conv + ".weight", layer.WeightShape);
            int[] vector = [layer.OutChannels];
            if (!layer.HasBatchNorm)
            {
                layers.Add((layer, [kernel, Take(conv + ".bias", vector)]));
                continue;
            }
            var bn = naming.BatchNormPrefix(layer);
            layers.Add((layer, [kernel, .. BatchNormParts.Select(p => Take($"{bn}.{p}", vector))]));
            used.Add(bn + ".num_batches_tracked");
        }

        (string, string)? classifier = null;
        var classifierWeight = naming.ClassifierPrefix + ".weight";
        if (tensors.TryGetValue(classifierWeight, out var w))
        {
            if (w.Shape.Length != 2 || w.Shape[1] != architecture.FeatureDimension)
                throw new CheckpointFormatException(source,
                    $"tensor '{classifierWeight}' has shape {CheckpointTensor.FormatShape(w.Shape)} but EfficientNet {architecture.Variant} expects [classes, {architecture.FeatureDimension}]; the checkpoint is for another variant.");
            if (w.Shape[0] > MaxClasses)
                throw new CheckpointFormatException(source,
                    $"tensor '{classifierWeight}' has {w.Shape[0]:N0} classes, more than the {MaxClasses:N0} a classifier may have; refusing it before reading.");
            classifier = (Take(classifierWeight, w.Shape), Take(naming.ClassifierPrefix + ".bias", [w.Shape[0]]));
        }

        var extra = tensors.Keys.FirstOrDefault(k => !used.Contains(k));
        if (extra is not null)
            throw new CheckpointFormatException(source,
                $"tensor '{extra}' with shape {CheckpointTensor.FormatShape(tensors[extra].Shape)} has no place in EfficientNet {architecture.Variant}; the checkpoint is for another (deeper) variant.");
        return new LoadPlan(layers, classifier, elements);
    }
}
