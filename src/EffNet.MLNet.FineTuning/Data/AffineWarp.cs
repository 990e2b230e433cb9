namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// An affine map of a square of planar RGB floats about its centre, sampled bilinearly; what falls outside
/// the source is black (torchvision's fill 0). Rotation, shear and translation of TrivialAugment.
/// </summary>
internal static class AffineWarp
{
    /// <summary>Rotate by <paramref name="degrees"/> (counter-clockwise as seen).</summary>
    public static void Rotate(Span<float> pixels, int size, double degrees)
    {
        var t = degrees * Math.PI / 180;
        var (cos, sin) = (Math.Cos(t), Math.Sin(t));
        // Screen y points down, so a counter-clockwise turn as seen is x' = x cos + y sin, y' = −x sin + y cos.
        Apply(pixels, size, cos, sin, -sin, cos, 0, 0);
    }

    /// <summary>Shear along x: <c>x' = x + factor × y</c>.</summary>
    public static void ShearX(Span<float> pixels, int size, double factor) => Apply(pixels, size, 1, factor, 0, 1, 0, 0);

    /// <summary>Shear along y: <c>y' = y + factor × x</c>.</summary>
    public static void ShearY(Span<float> pixels, int size, double factor) => Apply(pixels, size, 1, 0, factor, 1, 0, 0);

    /// <summary>Move by (<paramref name="dx"/>, <paramref name="dy"/>) pixels.</summary>
    public static void Translate(Span<float> pixels, int size, double dx, double dy) => Apply(pixels, size, 1, 0, 0, 1, dx, dy);

    /// <summary>Output point p (relative to the centre) shows source point A⁻¹(p − t), where A = [a b; c d].</summary>
    private static void Apply(Span<float> pixels, int size, double a, double b, double c, double d, double tx, double ty)
    {
        var determinant = a * d - b * c;
        var (ia, ib, ic, id) = (d / determinant, -b / determinant, -c / determinant, a / determinant);
        var plane = size * size;
        var source = pixels.ToArray();
        var centre = size / 2.0;
        for (var y = 0; y < size; y++)
        {
            var py = y + 0.5 - centre - ty;
            for (var x = 0; x < size; x++)
            {
                var px = x + 0.5 - centre - tx;
                var sx = ia * px + ib * py + centre - 0.5;
                var sy = ic * px + id * py + centre - 0.5;
                var x0 = (int)Math.Floor(sx);
                var y0 = (int)Math.Floor(sy);
                var fx = (float)(sx - x0);
                var fy = (float)(sy - y0);
                for (var ch = 0; ch < 3; ch++)
                {
                    var channel = source.AsSpan(ch * plane, plane);
                    var top = At(channel, size, x0, y0) * (1 - fx) + At(channel, size, x0 + 1, y0) * fx;
                    var bottom = At(channel, size, x0, y0 + 1) * (1 - fx) + At(channel, size, x0 + 1, y0 + 1) * fx;
                    pixels[ch * plane + y * size + x] = Math.Clamp(top * (1 - fy) + bottom * fy, 0f, 255f);
                }
            }
        }
    }

    private static float At(ReadOnlySpan<float> channel, int size, int x, int y) =>
        x < 0 || y < 0 || x >= size || y >= size ? 0f : channel[y * size + x];
}
