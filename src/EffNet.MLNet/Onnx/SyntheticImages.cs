namespace EffNet.MLNet.Onnx;

/// <summary>
/// Seeded picture-like inputs (flat backgrounds, gradients, solid rectangles and discs) used to
/// calibrate random weights; image statistics differ enough from white noise to matter.
/// </summary>
internal static class SyntheticImages
{
    /// <summary>[count, 3, size, size] RGB values in 0…255.</summary>
    public static float[] Batch(int count, int size, int seed)
    {
        var random = new Random(seed ^ 0x5EED);
        var pixels = new float[count * 3 * size * size];
        var plane = size * size;
        for (var n = 0; n < count; n++)
        {
            var image = pixels.AsSpan(n * 3 * plane, 3 * plane);
            var from = Colour(random);
            var to = Colour(random);
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                    for (var c = 0; c < 3; c++)
                        image[c * plane + y * size + x] = from[c] + (to[c] - from[c]) * (x + y) / (2f * size);
            for (var shape = 0; shape < 3; shape++)
            {
                var colour = Colour(random);
                int cx = random.Next(size), cy = random.Next(size), r = 2 + random.Next(size / 3);
                var disc = random.Next(2) == 0;
                for (var y = Math.Max(0, cy - r); y < Math.Min(size, cy + r); y++)
                    for (var x = Math.Max(0, cx - r); x < Math.Min(size, cx + r); x++)
                    {
                        if (disc && (x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
                        for (var c = 0; c < 3; c++) image[c * plane + y * size + x] = colour[c];
                    }
            }
            for (var i = 0; i < image.Length; i++)
                image[i] = Math.Clamp(image[i] + (float)(random.NextDouble() * 16 - 8), 0, 255);
        }
        return pixels;
    }

    private static float[] Colour(Random random) => [random.Next(256), random.Next(256), random.Next(256)];
}
