using SkiaSharp;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Photo-like JPEGs made once per set into the temp folder (in parallel, each image from its own
/// seed): gradients, soft and sharp shapes, fine texture and sensor-like noise, so that at quality
/// 90 a 1600×1200 image weighs about as much as a camera photo (several hundred KB) and costs as
/// much to decode. Not for the camera set: generated images flatter a decoder against real
/// photographs (see <see cref="CameraPhotos"/>).
/// </summary>
internal static class SyntheticPhotos
{
    /// <summary><paramref name="count"/> JPEGs of one size.</summary>
    public static IReadOnlyList<string> Make(int width, int height, int count) =>
        Make($"{width}x{height}", [(width, height)], count);

    private static IReadOnlyList<string> Make(string name, IReadOnlyList<(int Width, int Height)> sizes, int count)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"effnet-bench-v3-{name}");
        Directory.CreateDirectory(dir);
        var paths = Enumerable.Range(0, count).Select(i => Path.Combine(dir, $"photo-{i:D4}.jpg")).ToList();
        var missing = Enumerable.Range(0, count).Where(i => !File.Exists(paths[i])).ToList();
        if (missing.Count > 0) Console.Error.WriteLine($"making {missing.Count} {name} JPEGs in {dir} …");
        Parallel.ForEach(missing, i =>
        {
            var (width, height) = sizes[i % sizes.Count];
            var bytes = Photo(width, height, new Random(name.Length * 7919 + i));
            var partial = paths[i] + ".partial";
            File.WriteAllBytes(partial, bytes);
            File.Move(partial, paths[i], overwrite: true);
        });
        return paths;
    }

    private static byte[] Photo(int width, int height, Random random)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            using var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height),
                [Colour(random), Colour(random)], SKShaderTileMode.Clamp);
            using var paint = new SKPaint { Shader = shader };
            canvas.DrawRect(0, 0, width, height, paint);
            using var blob = new SKPaint { IsAntialias = true, MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, width / 100f) };
            for (var s = 0; s < 12; s++)
            {
                blob.Color = Colour(random).WithAlpha((byte)random.Next(120, 255));
                canvas.DrawCircle(random.Next(width), random.Next(height), random.Next(width / 20, width / 4), blob);
            }
            using var sharp = new SKPaint { IsAntialias = true, StrokeWidth = Math.Max(2, width / 800) };
            for (var s = 0; s < 300; s++)
            {
                sharp.Color = Colour(random).WithAlpha((byte)random.Next(60, 200));
                canvas.DrawLine(random.Next(width), random.Next(height), random.Next(width), random.Next(height), sharp);
            }
        }
        var pixels = bitmap.GetPixelSpan().ToArray();
        for (var p = 0; p < pixels.Length; p++) pixels[p] = (byte)Math.Clamp(pixels[p] + random.Next(-16, 17), 0, 255);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    private static SKColor Colour(Random r) => new((byte)r.Next(256), (byte)r.Next(256), (byte)r.Next(256));
}
