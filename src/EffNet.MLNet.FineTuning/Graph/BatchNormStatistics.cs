namespace EffNet.MLNet.FineTuning.Graph;

/// <summary>
/// PyTorch's running-statistics update after a training-mode batch-norm forward (momentum 0.1):
/// running_mean ← (1 − m)·running_mean + m·μ_B and running_var ← (1 − m)·running_var + m·σ²_B·M/(M − 1),
/// the variance unbiased over the M = N·H·W values of a channel (the forward normalises by the biased one).
/// </summary>
internal static class BatchNormStatistics
{
    public const double Momentum = 0.1;

    public static void Update(NetworkParameters p, TrainingGraph graph, TrainingSession session, int batch)
    {
        foreach (var layer in graph.BatchStatistics)
        {
            var count = (double)batch * layer.Area;
            var unbias = count > 1 ? count / (count - 1) : 1.0;
            var mean = session.BatchStatistics[layer.MeanOutput];
            var variance = session.BatchStatistics[layer.VarianceOutput];
            var runningMean = p.Values[layer.RunningMean];
            var runningVariance = p.Values[layer.RunningVariance];
            for (var c = 0; c < layer.Channels; c++)
            {
                runningMean[c] = (float)((1 - Momentum) * runningMean[c] + Momentum * mean[c]);
                runningVariance[c] = (float)((1 - Momentum) * runningVariance[c] + Momentum * variance[c] * unbias);
            }
        }
    }
}
