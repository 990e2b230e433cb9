using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Xunit.Abstractions;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>
/// On sample-data, fine-tuning from a random start scores above the linear probe on the same start:
/// the same L-BFGS head, trained on the same 72 images, scored on the same 18 held-out images (the last six
/// of each class by name, as notebook 05 holds them out), once on the random-init featurizer's features and
/// once on the fine-tuned backbone's.
/// </summary>
public class FineTuneVersusProbeTests(ITestOutputHelper output)
{
    // Measured: probe 0.889, fine-tuned 1.000 (all layers, batch-norm training, light augmentation, 10 epochs; drop-path and
    // dropout off: with the default dropout 0.2, 0.944).
    // Without augmentation 0.778 (all, 1e-3) and 0.833 (all, 3e-4): 72 images are few; top:3 without it 0.944.
    // Mutations:
    // - the random start calibrated layer by layer on the first batch (the removed BatchNormCalibration): not run against this test; the CLI gave 0.722 on its split;
    // - FineTuner.TrainsBatchNorm false for a random start (frozen statistics) -> first-epoch loss 1760, held out 0.833 -> fails;
    // - BatchNormStatistics.Update skipped (running statistics stay those of no data) -> held out 0.444 -> fails;
    // - optimizer.Step and BatchNormStatistics.Update skipped (the weights stay the start's) -> loss 1.106 then 1.126, held out 0.889 = the probe -> fails.
    [Fact]
    public void Fine_tuned_backbone_scores_above_the_probe_on_held_out_sample_data()
    {
        using var dir = new TempDir();
        var all = ImageDataset.FromFolder(SampleData.Folder);
        var heldOut = all.GroupBy(i => i.Label).SelectMany(g => g.OrderBy(i => i.ImagePath, StringComparer.Ordinal).TakeLast(6)).ToList();
        var train = all.Except(heldOut).ToList();
        var options = new FineTuneOptions
        {
            Unfreeze = Unfreeze.Everything, Epochs = 10, Resolution = 64, BatchSize = 8, LearningRate = 1e-3, DropPathRate = 0, DropoutRate = 0, Seed = 0,
            Augmentation = Augmentation.Light,
        };
        var weights = dir.File("tuned.safetensors");
        var history = FineTuner.Run(train, EfficientNetVariant.B0, torchvisionWeights: null, options, weights);

        var probe = HeldOutAccuracy(new EfficientNetFeaturizerOptions { RandomInit = true, Seed = options.RandomStartSeed, Resolution = 64 }, train, heldOut);
        var fineTuned = HeldOutAccuracy(new EfficientNetFeaturizerOptions { WeightsPath = weights, Resolution = 64 }, train, heldOut);
        output.WriteLine($"held out: probe {probe:0.000}, fine-tuned {fineTuned:0.000}; first epoch loss {history[0].Loss:0.000}, last {history[^1].Loss:0.000}");

        Assert.True(history[0].Loss < 2.0, $"the first epoch's loss is {history[0].Loss}: the start is not trainable");
        Assert.True(history[^1].Loss < history[0].Loss, $"the loss did not fall: {history[0].Loss} then {history[^1].Loss}");
        // Strictly above: a run that leaves the start unchanged gives the probe's own features, hence its score.
        Assert.True(fineTuned > probe, $"fine-tuned {fineTuned:0.000} is not above the probe's {probe:0.000} on the held-out images");
    }

    private sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class Prediction
    {
        public string PredictedLabel { get; set; } = "";
    }

    private static double HeldOutAccuracy(EfficientNetFeaturizerOptions backbone, IReadOnlyList<LabeledImage> train, IReadOnlyList<LabeledImage> heldOut)
    {
        var ml = new MLContext(seed: 0);
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures("Features", "ImagePath", backbone).Fit(ml.Data.LoadFromEnumerable(Array.Empty<Row>()));
        var result = ImageClassifierTrainer.Train(ml, featurizer, ImageClassifierTrainer.Featurize(ml, featurizer, train),
            new TrainingOptions { Trainer = TrainerKind.Lbfgs, ValidationFraction = 0.2, Seed = 0 });
        using var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(result.Model);
        return heldOut.Count(i => engine.Predict(new Row { ImagePath = i.ImagePath }).PredictedLabel == i.Label) / (double)heldOut.Count;
    }
}

/// <summary>A random start refuses frozen batch-norm in one line, before any image is decoded.</summary>
public class RandomStartBatchNormTests
{
    // Mutation: FineTuner.TrainsBatchNorm without its refusal -> the run goes on (to the missing images: another exception) -> fails.
    [Fact]
    public void Frozen_batch_norm_from_a_random_start_is_refused()
    {
        using var dir = new TempDir();
        var images = new[] { new LabeledImage(dir.File("missing-a.png"), "a"), new LabeledImage(dir.File("missing-b.png"), "b") };
        var e = Assert.Throws<ArgumentException>(() => FineTuner.Run(images, EfficientNetVariant.B0, null,
            new FineTuneOptions { TrainBatchNorm = false }, dir.File("out.safetensors")));
        Assert.Contains("random start cannot fine-tune with frozen batch-norm", e.Message, StringComparison.Ordinal);
        Assert.False(FineTuner.TrainsBatchNorm(new FineTuneOptions(), randomStart: false));
        Assert.True(FineTuner.TrainsBatchNorm(new FineTuneOptions(), randomStart: true));
    }
}
