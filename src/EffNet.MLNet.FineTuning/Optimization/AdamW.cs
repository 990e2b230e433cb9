namespace EffNet.MLNet.FineTuning.Optimization;

/// <summary>
/// torch.optim.AdamW: decay decoupled from the gradient (p ·= 1 − lr·λ), then Adam's update
/// p −= lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε).
/// </summary>
internal sealed class AdamW(double beta1, double beta2, double epsilon, double weightDecay) : Optimizer
{
    public override string Name => "adamw";

    protected override void Update(string name, float[] p, float[] g, double lr, bool decays)
    {
        var m = Buffer("exp_avg", name, p.Length, out _);
        var v = Buffer("exp_avg_sq", name, p.Length, out _);
        var shrink = decays ? (float)(1 - lr * weightDecay) : 1f;
        var b1 = (float)beta1;
        var b2 = (float)beta2;
        var stepSize = (float)(lr / (1 - Math.Pow(beta1, Steps)));
        var correction2 = (float)Math.Sqrt(1 - Math.Pow(beta2, Steps));
        var eps = (float)epsilon;
        for (var i = 0; i < p.Length; i++)
        {
            var gi = g[i];
            p[i] *= shrink;
            m[i] += (1 - b1) * (gi - m[i]);
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            p[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / correction2 + eps);
        }
    }
}
