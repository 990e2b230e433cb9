namespace EffNet.MLNet.Onnx;

/// <summary>
/// Seeded picture-like inputs used to calibrate random weights: smooth gradients, flat shapes
/// with hard edges, and striped or checked patches at several scales. Calibration only
/// transfers to real images whose statistics it has seen, and photos have all three.
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
            for (var shape = 0; shape < 4; shape++)
            {
                var a = Colour(random);
                var b = Colour(random);
                int cx = random.Next(size), cy = random.Next(size), r = 4 + random.Next(size / 3);
                var kind = random.Next(4); // disc, square, stripes, checks
                var period = 2 + random.Next(Math.Max(3, size / 8));
                for (var y = Math.Max(0, cy - r); y < Math.Min(size, cy + r); y++)
                    for (var x = Math.Max(0, cx - r); x < Math.Min(size, cx + r); x++)
                    {
                        if (kind == 0 && (x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
                        var second = kind switch
                        {
                            2 => x / period % 2 == 1,
                            3 => (x / period + y / period) % 2 == 1,
                            _ => false,
                        };
                        var colour = second ? b : a;
                        for (var c = 0; c < 3; c++) image[c * plane + y * size + x] = colour[c];
                    }
            }
        }
        return pixels;
    }

    private static float[] Colour(Random random) => [random.Next(256), random.Next(256), random.Next(256)];
}
