namespace EffNet.MLNet.Weights;

/// <summary>
/// Folds inference-mode batch-norm, y = γ·(x − μ)/√(σ² + ε) + β, into the convolution before
/// it: each output channel's kernel is scaled and the shift becomes the bias. Done in double
/// precision so the folded float32 graph matches the unfolded reference to rounding.
/// </summary>
internal static class BatchNormFolding
{
    /// <summary>Changes whenever a change to the folding alters the folded weights (and so the features).</summary>
    public const string Version = "1";

    /// <summary>Fold one batch-norm into a bias-free convolution kernel laid out [out, …].</summary>
    public static ConvWeights Fold(float[] kernel, float[] gamma, float[] beta, float[] mean, float[] variance, double epsilon)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var outChannels = gamma.Length;
        if (beta.Length != outChannels || mean.Length != outChannels || variance.Length != outChannels || kernel.Length % outChannels != 0)
            throw new ArgumentException("Batch-norm vectors and kernel disagree on the number of output channels.");
        var perChannel = kernel.Length / outChannels;
        var folded = new float[kernel.Length];
        var bias = new float[outChannels];
        for (var o = 0; o < outChannels; o++)
        {
            var scale = gamma[o] / Math.Sqrt((double)variance[o] + epsilon);
            for (var i = o * perChannel; i < (o + 1) * perChannel; i++)
                folded[i] = (float)(kernel[i] * scale);
            bias[o] = (float)(beta[o] - mean[o] * scale);
        }
        return new ConvWeights(folded, bias);
    }
}
