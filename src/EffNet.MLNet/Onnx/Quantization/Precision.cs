namespace EffNet.MLNet.Onnx;

/// <summary>The arithmetic the backbone runs in.</summary>
public enum Precision
{
    /// <summary>32-bit floating point throughout: the reference features.</summary>
    Float32,

    /// <summary>
    /// 8-bit integer convolutions: weights quantized per output channel, activations quantized with
    /// ranges calibrated on sample images. Faster on CPUs with integer dot-product units (AVX-VNNI,
    /// AVX512-VNNI), features close to, not equal to, the Float32 ones.
    /// </summary>
    Int8,
}
