using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Early stopping on the validation split keeps the best epoch's weights, not the last.</summary>
public class FineTuneEarlyStoppingTests
{
    // Mutation: FineTuner writes the last epoch's weights at the end even with a validation split -> fails (saved weights give 25720, the chosen epoch 13865).
    // Mutation: the patience check removed (never stops early) -> fails (all 8 epochs run).
    // Mutation: "improved" taken as a higher validation loss -> fails (chosen epoch is not the lowest).
    [Fact]
    public void Validation_that_gets_worse_stops_early_and_keeps_the_best_epoch()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 6);
        var loaded = ImageDataset.Load(data);
        const double fraction = 0.34;
        const int seed = 5;
        // Built so that learning the training images makes validation worse: every held-out image shows
        // the pattern of the next label, so the better the network tells the training classes apart,
        // the higher its validation loss.
        var labels = loaded.Select(i => i.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        var (_, held) = StratifiedSplit.Split(loaded.Select(i => i.Label).ToList(), fraction, seed);
        var images = loaded.Select((image, i) => held.Contains(i)
            ? image with { ImagePath = loaded.First(o => o.Label == labels[(labels.IndexOf(image.Label) + 1) % labels.Count]).ImagePath }
            : image).ToList();

        var variant = EfficientNetVariant.Parse("w=0.5,d=0.5,r=32");
        var options = new FineTuneOptions
        {
            Epochs = 8, Resolution = 32, BatchSize = 4, Threads = 1, Unfreeze = Unfreeze.Top(1), LearningRate = 3e-3,
            ValidationFraction = fraction, Patience = 2, Seed = seed, WarmupEpochs = 0,
        };
        var weights = dir.File("weights.safetensors");
        var history = FineTuner.Run(images, variant, null, options, weights);

        Assert.All(history, e => Assert.NotNull(e.ValidationLoss));
        var chosen = history.Last(e => e.Improved);
        Assert.Equal(history.Min(e => e.ValidationLoss), chosen.ValidationLoss);
        Assert.True(history.Count < options.Epochs, $"ran all {history.Count} epochs: " + string.Join(", ", history.Select(e => $"{e.ValidationLoss:0.000}")));
        Assert.Equal(chosen.Epoch + options.Patience, history.Count);
        Assert.True(history[^1].ValidationLoss > chosen.ValidationLoss);

        // The saved weights are the chosen epoch's: evaluated again on the held-out images they give its loss.
        var architecture = EfficientNetArchitecture.For(variant);
        var p = NetworkParameters.FromTorchvisionCheckpoint(architecture, weights, labels.Count, seed);
        var graph = TrainingGraphBuilder.Build(p, options.Unfreeze, options.Resolution, options.LabelSmoothing, gradients: false);
        var validation = held.Select(i => (images[i].ImagePath, labels.IndexOf(images[i].Label))).ToList();
        using var evaluation = new Evaluation(graph, p, 1, new DecodedImageBatches(validation, options.Resolution, options.BatchSize, seed, shuffle: false,
            DecodedImageBatches.ServingSide(variant, options.Resolution)));
        var (loss, accuracy) = evaluation.Run(new float[options.BatchSize * 3 * 32 * 32], new long[options.BatchSize], new float[options.BatchSize * labels.Count]);
        Assert.Equal(chosen.ValidationLoss!.Value, loss, 1e-5 * loss);
        Assert.Equal(chosen.ValidationAccuracy!.Value, accuracy, 1e-9);
    }

    [Fact]
    public void A_validation_split_that_leaves_no_training_image_is_refused()
    {
        using var dir = new TempDir();
        var images = ImageDataset.Load(SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 1));
        var options = new FineTuneOptions { Epochs = 1, Resolution = 32, ValidationFraction = 0.5 };
        var e = Assert.Throws<ArgumentException>(() => FineTuner.Run(images, EfficientNetVariant.Parse("w=0.5,d=0.5,r=32"), null, options, dir.File("w.safetensors")));
        Assert.Contains("validation", e.Message, StringComparison.Ordinal);
    }
}
