namespace EffNet.MLNet.Imaging;

/// <summary>
/// The taps of one axis of a resize, precomputed as Pillow does (<c>precompute_coeffs</c> and
/// <c>normalize_coeffs_8bpc</c>): for each output index, the first input index, the number of taps,
/// and weights normalised to sum to one, then held as fixed-point integers with
/// <see cref="PrecisionBits"/> fractional bits, so that sums of 8-bit pixels round exactly as Pillow's.
/// </summary>
internal sealed class ResampleAxis
{
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Half of one in fixed point: where Pillow starts each sum, so the final shift rounds.</summary>
    public const int Half = 1 << (PrecisionBits - 1);

    private ResampleAxis(int[] first, int[] count, int[] weights, int stride)
    {
        First = first;
        Count = count;
        Weights = weights;
        Stride = stride;
    }

    /// <summary>First input index of each output index.</summary>
    public int[] First { get; }

    /// <summary>Number of taps of each output index.</summary>
    public int[] Count { get; }

    /// <summary>Fixed-point weights: output i's taps start at <c>i * Stride</c>.</summary>
    public int[] Weights { get; }

    public int Stride { get; }

    public static ResampleAxis Create(int inSize, int outSize, ResampleFilter filter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outSize, 1);
        var scale = (double)inSize / outSize;
        var filterScale = Math.Max(scale, 1.0);   // only a downscale widens the kernel
        var support = filter.Support * filterScale;
        var inverse = 1.0 / filterScale;   // multiplied, not divided, to round as Pillow does
        var stride = (int)Math.Ceiling(support) * 2 + 1;
        var first = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * stride];
        var taps = new double[stride];
        for (var i = 0; i < outSize; i++)
        {
            var center = (i + 0.5) * scale;
            var min = Math.Max(0, (int)(center - support + 0.5));
            var n = Math.Min(inSize, (int)(center + support + 0.5)) - min;
            var total = 0.0;
            for (var t = 0; t < n; t++)
            {
                taps[t] = filter.Weight((t + min - center + 0.5) * inverse);
                total += taps[t];
            }
            for (var t = 0; t < n; t++)
            {
                var w = total != 0.0 ? taps[t] / total : taps[t];
                // Pillow rounds half away from zero: (int) truncates towards zero after adding ±0.5.
                weights[i * stride + t] = (int)(w < 0 ? w * (1 << PrecisionBits) - 0.5 : w * (1 << PrecisionBits) + 0.5);
            }
            first[i] = min;
            count[i] = n;
        }
        return new ResampleAxis(first, count, weights, stride);
    }
}
