using EffNet.MLNet.FineTuning.Data;

namespace EffNet.MLNet.FineTuning.Graph;

/// <summary>
/// Draws the classifier's dropout mask of one batch: each image keeps each pooled feature with
/// probability 1 − p, scaled by 1/(1 − p) (torchvision's <c>Dropout</c> before the last linear layer).
/// A mask depends only on (seed, epoch, batch), so a resumed run draws what an uninterrupted one did.
/// </summary>
internal sealed class ClassifierDropoutMask(ClassifierDropoutInput input, int batchSize, int seed)
{
    private const ulong Stream = 0xD50F_0000;
    private readonly float[] _mask = new float[batchSize * input.Width];

    public float[] Draw(int epoch, int batchIndex, int count)
    {
        var random = SeededRandom.For(seed, epoch, batchIndex, Stream);
        var keep = 1 - input.Probability;
        for (var i = 0; i < count * input.Width; i++) _mask[i] = random.NextDouble() < keep ? (float)(1 / keep) : 0f;
        return _mask;
    }
}
