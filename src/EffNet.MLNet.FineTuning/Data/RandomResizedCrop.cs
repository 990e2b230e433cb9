namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// torchvision's <c>RandomResizedCrop</c>: a box whose area is a uniform fraction of the image's and whose
/// aspect ratio is log-uniform in a range (ten tries, then the whole image clamped to the ratio range),
/// resampled to the output square with bilinear interpolation (pixel centres aligned, edges repeated).
/// The bilinear filter is not antialiased: the working image is only a little larger than the output,
/// so a crop is never shrunk by more than about that factor.
/// </summary>
internal static class RandomResizedCrop
{
    /// <summary>Draw a box inside a <paramref name="width"/>×<paramref name="height"/> image, as torchvision's <c>get_params</c>.</summary>
    public static CropBox Sample(ref SeededRandom random, int width, int height, (double Min, double Max) scale, (double Min, double Max) ratio)
    {
        var area = (double)width * height;
        var logRatio = (Min: Math.Log(ratio.Min), Max: Math.Log(ratio.Max));
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var target = area * random.Uniform(scale.Min, scale.Max);
            var aspect = Math.Exp(random.Uniform(logRatio.Min, logRatio.Max));
            var w = (int)Math.Round(Math.Sqrt(target * aspect));
            var h = (int)Math.Round(Math.Sqrt(target / aspect));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return new CropBox(random.NextInt(width - w + 1), random.NextInt(height - h + 1), w, h);
        }
        var inRatio = (double)width / height;
        var (cw, ch) = inRatio < ratio.Min ? (width, (int)Math.Round(width / ratio.Min))
            : inRatio > ratio.Max ? ((int)Math.Round(height * ratio.Max), height)
            : (width, height);
        return new CropBox((width - cw) / 2, (height - ch) / 2, cw, ch);
    }

    /// <summary>
    /// Resample <paramref name="box"/> of <paramref name="image"/> to a <paramref name="size"/>×<paramref name="size"/>
    /// square of planar RGB floats (0…255) in <paramref name="destination"/>, mirrored left to right when <paramref name="mirror"/>.
    /// </summary>
    public static void Resample(WorkingImage image, CropBox box, int size, bool mirror, Span<float> destination)
    {
        var plane = size * size;
        var columns = Taps(box.X, box.Width, size);
        var rows = Taps(box.Y, box.Height, size);
        var rgb = image.Rgb;
        var stride = image.Width * 3;
        for (var oy = 0; oy < size; oy++)
        {
            var (y0, y1, fy) = rows[oy];
            for (var ox = 0; ox < size; ox++)
            {
                var (x0, x1, fx) = columns[ox];
                var at = oy * size + (mirror ? size - 1 - ox : ox);
                for (var c = 0; c < 3; c++)
                {
                    var top = rgb[y0 * stride + 3 * x0 + c] + fx * (rgb[y0 * stride + 3 * x1 + c] - rgb[y0 * stride + 3 * x0 + c]);
                    var bottom = rgb[y1 * stride + 3 * x0 + c] + fx * (rgb[y1 * stride + 3 * x1 + c] - rgb[y1 * stride + 3 * x0 + c]);
                    destination[c * plane + at] = Math.Clamp(top + fy * (bottom - top), 0f, 255f);
                }
            }
        }
    }

    // For each output position along one axis: the two source pixels it lies between and the weight of the second.
    // Positions past the box's edge repeat its edge pixel, as cropping first and then resizing does.
    private static (int First, int Second, float Fraction)[] Taps(int start, int length, int size)
    {
        var last = start + length - 1;
        var taps = new (int, int, float)[size];
        var step = (double)length / size;
        for (var o = 0; o < size; o++)
        {
            var source = Math.Clamp(start + (o + 0.5) * step - 0.5, start, last);
            var first = (int)Math.Floor(source);
            taps[o] = (first, Math.Min(first + 1, last), (float)(source - first));
        }
        return taps;
    }
}
