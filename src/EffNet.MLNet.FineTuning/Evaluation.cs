using EffNet.MLNet.FineTuning.Graph;

namespace EffNet.MLNet.FineTuning;

/// <summary>
/// Loss and accuracy of the current weights on held-out images, in evaluation mode (running
/// batch-norm statistics, no drop-path): the figure early stopping and the choice of epoch use.
/// </summary>
internal sealed class Evaluation(TrainingGraph graph, NetworkParameters parameters, int threads, DecodedImageBatches batches) : IDisposable
{
    private readonly TrainingSession _session = new(graph, parameters, threads);

    /// <summary>Mean loss (the training loss, weighted as it is) and accuracy over every held-out image; the buffers are scratch.</summary>
    public (double Loss, double Accuracy) Run(float[] pixels, long[] labels, float[] logits)
    {
        double lossSum = 0;
        int correct = 0, seen = 0;
        for (var b = 0; b < batches.Count; b++)
        {
            var n = batches.Size(b);
            batches.Fill(0, b, pixels, labels);
            var loss = _session.Run(pixels, labels, n, logits);
            lossSum += loss * n;
            seen += n;
            for (var i = 0; i < n; i++)
                if (FineTuner.ArgMax(logits.AsSpan(i * graph.Classes, graph.Classes)) == labels[i]) correct++;
        }
        return (lossSum / seen, (double)correct / seen);
    }

    public void Dispose() => _session.Dispose();
}
