namespace EffNet.MLNet.Onnx.Quantization;

/// <summary>The float interval an activation tensor is quantized over, and its uint8 scale and zero point.</summary>
internal readonly record struct ActivationRange(float Min, float Max)
{
    /// <summary>uint8 step and zero point for this range, widened to contain 0 so that zero padding stays exact.</summary>
    public (float Scale, byte ZeroPoint) ToUInt8()
    {
        var low = Math.Min(Min, 0f);
        var high = Math.Max(Max, 0f);
        var scale = (high - low) / 255f;
        if (!(scale > 0) || float.IsInfinity(scale)) return (1f, 0);
        var zero = (int)Math.Round(-low / scale);
        return (scale, (byte)Math.Clamp(zero, 0, 255));
    }
}
