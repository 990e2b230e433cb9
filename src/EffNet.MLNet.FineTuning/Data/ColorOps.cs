namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// Pixel-wise colour operations on a square of planar RGB floats (0…255, three planes of side × side),
/// with the formulas of PIL's <c>ImageEnhance</c> / <c>ImageOps</c> as torchvision applies them. Each
/// result is clamped to 0…255. None of them moves a pixel.
/// </summary>
internal static class ColorOps
{
    // ITU-R 601 luma, PIL's "L" conversion and torchvision's rgb_to_grayscale.
    private const float Red = 0.299f, Green = 0.587f, Blue = 0.114f;

    /// <summary>Scale towards black: <c>v × factor</c>.</summary>
    public static void Brightness(Span<float> pixels, float factor)
    {
        foreach (ref var v in pixels) v = Clamp(v * factor);
    }

    /// <summary>Blend with the image's mean grey: <c>mean + factor × (v − mean)</c>.</summary>
    public static void Contrast(Span<float> pixels, float factor)
    {
        var plane = pixels.Length / 3;
        double sum = 0;
        for (var i = 0; i < plane; i++) sum += Luma(pixels, plane, i);
        var mean = (float)(sum / plane);
        foreach (ref var v in pixels) v = Clamp(mean + factor * (v - mean));
    }

    /// <summary>Blend each pixel with its own grey: <c>grey + factor × (v − grey)</c> (0 gives a grey image).</summary>
    public static void Saturation(Span<float> pixels, float factor)
    {
        var plane = pixels.Length / 3;
        for (var i = 0; i < plane; i++)
        {
            var grey = Luma(pixels, plane, i);
            for (var c = 0; c < 3; c++)
            {
                ref var v = ref pixels[c * plane + i];
                v = Clamp(grey + factor * (v - grey));
            }
        }
    }

    /// <summary>
    /// PIL's sharpness: blend with the image smoothed by the 3×3 kernel [1 1 1; 1 5 1; 1 1 1]/13, the border
    /// pixels kept: <c>smooth + factor × (v − smooth)</c> (above 1 sharpens, below 1 blurs).
    /// </summary>
    public static void Sharpness(Span<float> pixels, int size, float factor)
    {
        var plane = size * size;
        var smooth = new float[plane];
        for (var c = 0; c < 3; c++)
        {
            var channel = pixels.Slice(c * plane, plane);
            channel.CopyTo(smooth);
            for (var y = 1; y < size - 1; y++)
                for (var x = 1; x < size - 1; x++)
                {
                    var at = y * size + x;
                    var sum = 5 * channel[at];
                    for (var dy = -1; dy <= 1; dy++)
                        for (var dx = -1; dx <= 1; dx++)
                            if (dx != 0 || dy != 0) sum += channel[at + dy * size + dx];
                    smooth[at] = sum / 13f;
                }
            for (var i = 0; i < plane; i++) channel[i] = Clamp(smooth[i] + factor * (channel[i] - smooth[i]));
        }
    }

    /// <summary>Keep the top <paramref name="bits"/> bits of each (rounded) 8-bit value.</summary>
    public static void Posterize(Span<float> pixels, int bits)
    {
        var mask = 0xFF & ~((1 << (8 - bits)) - 1);
        foreach (ref var v in pixels) v = Byte(v) & mask;
    }

    /// <summary>Invert every value at or above <paramref name="threshold"/>: <c>255 − v</c>.</summary>
    public static void Solarize(Span<float> pixels, float threshold)
    {
        foreach (ref var v in pixels) if (v >= threshold) v = 255 - v;
    }

    /// <summary>Stretch each channel so its darkest value becomes 0 and its brightest 255 (a flat channel is left as it is).</summary>
    public static void AutoContrast(Span<float> pixels)
    {
        var plane = pixels.Length / 3;
        for (var c = 0; c < 3; c++)
        {
            var channel = pixels.Slice(c * plane, plane);
            float low = float.MaxValue, high = float.MinValue;
            foreach (var v in channel)
            {
                low = Math.Min(low, v);
                high = Math.Max(high, v);
            }
            if (high <= low) continue;
            var scale = 255f / (high - low);
            foreach (ref var v in channel) v = Clamp((v - low) * scale);
        }
    }

    /// <summary>
    /// PIL's <c>ImageOps.equalize</c> per channel on the rounded 8-bit values: a lookup table from the
    /// cumulative histogram (step: the count without the brightest level's, floor-divided by 255, as Pillow 9 does; checked
    /// against it); a channel whose step is 0 is left as it is.
    /// </summary>
    public static void Equalize(Span<float> pixels)
    {
        var plane = pixels.Length / 3;
        Span<int> histogram = stackalloc int[256];
        Span<int> table = stackalloc int[256];
        for (var c = 0; c < 3; c++)
        {
            var channel = pixels.Slice(c * plane, plane);
            histogram.Clear();
            foreach (var v in channel) histogram[Byte(v)]++;
            var last = 255;
            while (histogram[last] == 0) last--;
            var step = (plane - histogram[last]) / 255;
            if (step == 0) continue;
            var running = step / 2;
            for (var level = 0; level < 256; level++)
            {
                table[level] = Math.Min(255, running / step);
                running += histogram[level];
            }
            foreach (ref var v in channel) v = table[Byte(v)];
        }
    }

    private static float Luma(Span<float> pixels, int plane, int i) => Red * pixels[i] + Green * pixels[plane + i] + Blue * pixels[2 * plane + i];

    private static float Clamp(float v) => Math.Clamp(v, 0f, 255f);

    private static int Byte(float v) => (int)Math.Clamp(MathF.Round(v), 0, 255);
}
