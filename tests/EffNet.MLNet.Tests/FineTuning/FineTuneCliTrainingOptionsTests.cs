using System.Text.Json;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Onnx;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>The training options of <c>effnet train --fine-tune</c> reach the engine and model.json records them.</summary>
public class FineTuneCliTrainingOptionsTests
{
    // Mutation: FineTuneRun drops TrainBatchNorm from the options -> fails (batchNorm says "frozen (evaluation mode; …").
    // Mutation: FineTuneRun leaves DropoutRate at its default -> fails (dropout 0.2).
    // Mutation: FineTuneRun leaves HorizontalFlip off -> fails (horizontalFlip false).
    // Mutation: FineTuneRun leaves ValidationFraction at 0 -> fails (validationFraction 0; no validation figures in the history).
    [Fact]
    public void Batch_norm_training_class_weights_and_early_stopping_are_recorded()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 5);
        var model = dir.File("model.zip");
        // A checkpoint start, where batch-norm is frozen unless asked (a random start always trains it, so it could not tell).
        var start = dir.File("start.safetensors");
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        StateDictWriter.WriteTorchvision(start, NetworkParameters.FromFolded(architecture, RandomWeights.Create(architecture, 0), 3, 0));
        var r = CliTests.Effnet("train", "--data", data, "--out", model, "--fine-tune", "--weights", start, "--weights-family", "torchvision", "--epochs", "2",
            "--resolution", "32", "--fine-tune-batch", "4", "--trainer", "sdca", "--quiet",
            "--train-batchnorm", "--drop-path", "0.1", "--dropout", "0.3", "--flip", "--class-weights", "auto", "--patience", "3", "--validation-fraction", "0.4");
        Assert.True(r.Code == 0, r.Err);

        var fineTuning = JsonDocument.Parse(File.ReadAllText(dir.File("model.json"))).RootElement.GetProperty("fineTuning");
        Assert.StartsWith("trained", fineTuning.GetProperty("batchNorm").GetString(), StringComparison.Ordinal);
        Assert.Equal(0.1, fineTuning.GetProperty("dropPath").GetDouble());
        Assert.Equal(0.3, fineTuning.GetProperty("dropout").GetDouble());
        Assert.True(fineTuning.GetProperty("horizontalFlip").GetBoolean());
        Assert.Equal("auto", fineTuning.GetProperty("classWeights").GetString());
        Assert.Equal(0.4, fineTuning.GetProperty("validationFraction").GetDouble());
        Assert.Equal(3, fineTuning.GetProperty("patience").GetInt32());
        var history = fineTuning.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(2, history.Count);
        Assert.All(history, e => Assert.InRange(e.GetProperty("validationAccuracy").GetDouble(), 0, 1));
        Assert.InRange(fineTuning.GetProperty("chosenEpoch").GetInt32(), 1, 2);
    }
}
