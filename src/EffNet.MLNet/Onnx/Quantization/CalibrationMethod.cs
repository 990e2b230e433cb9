namespace EffNet.MLNet.Onnx.Quantization;

/// <summary>How an activation's quantization range is chosen from the values seen on the calibration images.</summary>
internal enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen: nothing clips, rare outliers widen the step.</summary>
    MinMax,

    /// <summary>The 0.001st and 99.999th percentiles of the values seen: the outliers beyond clip, the step is finer.</summary>
    Percentile,

    /// <summary>The range with the least squared quantization error over the values seen (clipped tails against rounding steps).</summary>
    LeastSquares,
}
