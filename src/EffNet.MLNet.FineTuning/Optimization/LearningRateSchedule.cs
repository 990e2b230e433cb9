namespace EffNet.MLNet.FineTuning.Optimization;

/// <summary>
/// Linear warm-up to the base rate over <paramref name="WarmupSteps"/> steps, then a cosine decay
/// to zero at <paramref name="TotalSteps"/>. Step s (0-based) uses (s + 1)/W of the rate during
/// warm-up, so the first step already moves.
/// </summary>
internal sealed record LearningRateSchedule(double BaseRate, int WarmupSteps, int TotalSteps)
{
    public double At(int step)
    {
        if (step < WarmupSteps) return BaseRate * (step + 1) / WarmupSteps;
        var span = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / span);
        return BaseRate * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
