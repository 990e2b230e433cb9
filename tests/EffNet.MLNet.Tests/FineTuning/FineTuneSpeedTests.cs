using System.Diagnostics;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Graph;
using EffNet.MLNet.FineTuning.Optimization;
using EffNet.MLNet.Onnx;
using Xunit.Abstractions;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Training throughput of B0 at 128 px, batch 16, two threads (the PyTorch comparison point); prints, asserts only that it runs.</summary>
public class FineTuneSpeedTests(ITestOutputHelper output)
{
    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("all")]
    [InlineData("top:2")]
    public void B0_training_images_per_second(string unfreeze)
    {
        const int batch = 16, resolution = 128, steps = 4;
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var p = NetworkParameters.FromFolded(architecture, RandomWeights.Create(architecture, 1), 10, 1);
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.TryParse(unfreeze)!, resolution, 0.1);
        using var session = new TrainingSession(graph, p, threads: 2);
        var optimizer = new AdamW(0.9, 0.999, 1e-8, 0.05);
        var pixels = SyntheticImages.Batch(batch, resolution, 3);
        var labels = Enumerable.Range(0, batch).Select(i => (long)(i % 10)).ToArray();
        var logits = new float[batch * 10];
        session.Run(pixels, labels, batch, logits); // warm-up
        var watch = Stopwatch.StartNew();
        for (var s = 0; s < steps; s++)
        {
            session.Run(pixels, labels, batch, logits);
            optimizer.Step(p, session.Gradients, graph.Trainable, 1e-5);
        }
        var rate = steps * batch / watch.Elapsed.TotalSeconds;
        output.WriteLine($"B0 {unfreeze} 128 px batch 16, 2 threads: {rate:0.0} images/s");
        Assert.True(rate > 0);
    }
}
