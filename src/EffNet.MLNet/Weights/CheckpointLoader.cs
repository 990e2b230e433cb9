using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Weights;

/// <summary>
/// Matches a checkpoint's tensors to an architecture's layers, checks every shape, and folds
/// batch-norm into the convolutions with the ε of the checkpoint's <see cref="CheckpointFamily"/>.
/// </summary>
public static class CheckpointLoader
{
    private static readonly string[] BatchNormParts = ["weight", "bias", "running_mean", "running_var"];

    /// <summary>Read <paramref name="path"/> and map it onto <paramref name="architecture"/>.</summary>
    /// <param name="architecture">The network the checkpoint is for.</param>
    /// <param name="path">A <c>.pth</c> or <c>.safetensors</c> file.</param>
    /// <param name="family">
    /// The library the checkpoint comes from, which decides batch-norm ε and padding. Default:
    /// <see cref="CheckpointFamily.Auto"/>, which reads it from the tensor and file names.
    /// </param>
    public static NetworkWeights Load(EfficientNetArchitecture architecture, string path, CheckpointFamily family = CheckpointFamily.Auto) =>
        FromTensors(architecture, CheckpointReader.Read(path), path, family);

    /// <summary>Map already-read tensors onto <paramref name="architecture"/>.</summary>
    /// <exception cref="CheckpointFormatException">
    /// A tensor is missing, extra, or of the wrong shape, or the family cannot be told or contradicts the tensor names.
    /// </exception>
    public static NetworkWeights FromTensors(
        EfficientNetArchitecture architecture, IReadOnlyDictionary<string, CheckpointTensor> tensors, string source,
        CheckpointFamily family = CheckpointFamily.Auto)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(tensors);
        var naming = CheckpointNaming.Detect(tensors.Keys) ?? throw new CheckpointFormatException(source,
            $"the tensor names follow neither torchvision (features.0.0.weight…) nor timm (conv_stem.weight…); the first are: {string.Join(", ", tensors.Keys.Take(5))}.");

        var used = new HashSet<string>(StringComparer.Ordinal);
        CheckpointTensor Take(string key, int[] shape)
        {
            if (!tensors.TryGetValue(key, out var t))
                throw new CheckpointFormatException(source,
                    $"tensor '{key}' with shape {CheckpointTensor.FormatShape(shape)} is missing; is this a {naming.Name} checkpoint of EfficientNet {architecture.Variant}?");
            if (!t.Shape.SequenceEqual(shape))
                throw new CheckpointFormatException(source,
                    $"tensor '{key}' has shape {t.ShapeText} but EfficientNet {architecture.Variant} expects {CheckpointTensor.FormatShape(shape)}; the checkpoint is for another variant.");
            used.Add(key);
            return t;
        }

        // Every shape is checked before the family is resolved: a checkpoint of another
        // architecture should hear that, not that its family is unclear.
        var layers = new List<(ConvLayer Layer, float[] Kernel, float[][] Parts)>();
        foreach (var layer in architecture.ConvLayers)
        {
            var conv = naming.ConvPrefix(layer);
            var kernel = Take(conv + ".weight", layer.WeightShape);
            int[] vector = [layer.OutChannels];
            if (!layer.HasBatchNorm)
            {
                layers.Add((layer, kernel.Data, [Take(conv + ".bias", vector).Data]));
                continue;
            }
            var bn = naming.BatchNormPrefix(layer);
            layers.Add((layer, kernel.Data, BatchNormParts.Select(p => Take($"{bn}.{p}", vector).Data).ToArray()));
            used.Add(bn + ".num_batches_tracked");
        }

        ClassifierWeights? classifier = null;
        var classifierWeight = naming.ClassifierPrefix + ".weight";
        if (tensors.TryGetValue(classifierWeight, out var w))
        {
            if (w.Shape.Length != 2 || w.Shape[1] != architecture.FeatureDimension)
                throw new CheckpointFormatException(source,
                    $"tensor '{classifierWeight}' has shape {w.ShapeText} but EfficientNet {architecture.Variant} expects [classes, {architecture.FeatureDimension}]; the checkpoint is for another variant.");
            classifier = new ClassifierWeights(Take(classifierWeight, w.Shape).Data, Take(naming.ClassifierPrefix + ".bias", [w.Shape[0]]).Data);
        }

        var extra = tensors.Keys.FirstOrDefault(k => !used.Contains(k));
        if (extra is not null)
            throw new CheckpointFormatException(source,
                $"tensor '{extra}' with shape {tensors[extra].ShapeText} has no place in EfficientNet {architecture.Variant}; the checkpoint is for another (deeper) variant.");

        var resolved = CheckpointFamilies.Resolve(family, naming, source);
        var epsilon = resolved.BatchNormEpsilon(architecture.Variant);
        var convs = new Dictionary<string, ConvWeights>(StringComparer.Ordinal);
        foreach (var (layer, kernel, parts) in layers)
            convs[layer.Name] = layer.HasBatchNorm
                ? BatchNormFolding.Fold(kernel, parts[0], parts[1], parts[2], parts[3], epsilon)
                : new ConvWeights(kernel, parts[0]);
        return new NetworkWeights(convs, classifier, source) { Family = resolved };
    }
}
