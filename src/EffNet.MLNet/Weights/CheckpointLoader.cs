using EffNet.MLNet.Architecture;

namespace EffNet.MLNet.Weights;

/// <summary>
/// Matches a checkpoint's tensors to an architecture's layers, checks every shape, and folds
/// batch-norm into the convolutions.
/// </summary>
public static class CheckpointLoader
{
    private static readonly string[] BatchNormParts = ["weight", "bias", "running_mean", "running_var"];

    /// <summary>Read <paramref name="path"/> and map it onto <paramref name="architecture"/>.</summary>
    public static NetworkWeights Load(EfficientNetArchitecture architecture, string path, CheckpointNaming? naming = null) =>
        FromTensors(architecture, CheckpointReader.Read(path), path, naming);

    /// <summary>Map already-read tensors onto <paramref name="architecture"/>.</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing, extra, or of the wrong shape.</exception>
    public static NetworkWeights FromTensors(
        EfficientNetArchitecture architecture, IReadOnlyDictionary<string, CheckpointTensor> tensors, string source, CheckpointNaming? naming = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(tensors);
        naming ??= CheckpointNaming.Detect(tensors.Keys) ?? throw new CheckpointFormatException(source,
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

        var convs = new Dictionary<string, ConvWeights>(StringComparer.Ordinal);
        foreach (var layer in architecture.ConvLayers)
        {
            var conv = naming.ConvPrefix(layer);
            var kernel = Take(conv + ".weight", layer.WeightShape);
            int[] vector = [layer.OutChannels];
            if (!layer.HasBatchNorm)
            {
                convs[layer.Name] = new ConvWeights(kernel.Data, Take(conv + ".bias", vector).Data);
                continue;
            }
            var bn = naming.BatchNormPrefix(layer);
            var parts = BatchNormParts.Select(p => Take($"{bn}.{p}", vector).Data).ToArray();
            used.Add(bn + ".num_batches_tracked");
            convs[layer.Name] = BatchNormFolding.Fold(kernel.Data, parts[0], parts[1], parts[2], parts[3], architecture.Variant.BatchNormEpsilon);
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
        return new NetworkWeights(convs, classifier, source);
    }
}
