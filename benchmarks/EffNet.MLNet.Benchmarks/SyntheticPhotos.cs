using SkiaSharp;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Photo-like JPEGs made once per size into the temp folder: gradients, soft and sharp shapes,
/// fine texture and sensor-like noise, so that at quality 90 a 1600×1200 image weighs about as
/// much as a camera photo (several hundred KB) and costs as much to decode.
/// </summary>
internal static class SyntheticPhotos
{
    public static IReadOnlyList<string> Make(int width, int height, int count)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"effnet-bench-v2-{width}x{height}");
        Directory.CreateDirectory(dir);
        var paths = new List<string>();
        var random = new Random(width * 31 + height);
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(dir, $"photo-{i:D4}.jpg");
            paths.Add(path);
            if (File.Exists(path)) { random.Next(); continue; }
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
                using var sharp = new SKPaint { IsAntialias = true, StrokeWidth = 2 };
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
            File.WriteAllBytes(path, data.ToArray());
        }
        return paths;
    }

    private static SKColor Colour(Random r) => new((byte)r.Next(256), (byte)r.Next(256), (byte)r.Next(256));
}
