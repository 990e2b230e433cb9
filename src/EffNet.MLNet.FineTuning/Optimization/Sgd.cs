namespace EffNet.MLNet.FineTuning.Optimization;

/// <summary>
/// torch.optim.SGD with momentum (no dampening, not Nesterov): d = g + λ·p; b = d on the first
/// step, then b = μ·b + d; p −= lr·b. Weight decay is added to the gradient (L2), as PyTorch does.
/// </summary>
internal sealed class Sgd(double momentum, double weightDecay) : Optimizer
{
    public override string Name => "sgd";

    protected override void Update(string name, float[] p, float[] g, double lr, bool decays)
    {
        var decay = decays ? (float)weightDecay : 0f;
        var mu = (float)momentum;
        var rate = (float)lr;
        var buffer = Buffer("momentum", name, p.Length, out var first);
        for (var i = 0; i < p.Length; i++)
        {
            var d = g[i] + decay * p[i];
            buffer[i] = first ? d : mu * buffer[i] + d;
            p[i] -= rate * buffer[i];
        }
    }
}
