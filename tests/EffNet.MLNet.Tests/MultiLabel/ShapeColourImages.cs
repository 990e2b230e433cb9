using System.Globalization;
using SkiaSharp;

namespace EffNet.MLNet.Tests.MultiLabel;

/// <summary>
/// A multi-label dataset made at test time: each image holds one shape (disc or square) in one colour (red or
/// blue), chosen independently, at a random place and size on a random grey-green background with speckles.
/// Its manifest gives every image two of the labels disc, square, red, blue.
/// </summary>
internal static class ShapeColourImages
{
    public static readonly string[] Labels = ["blue", "disc", "red", "square"];

    /// <summary>Write <paramref name="count"/> images and <c>manifest.csv</c> into <paramref name="folder"/>; returns the manifest's path.</summary>
    public static string Write(string folder, int count, int seed)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var lines = new List<string> { "path,labels" };
        for (var i = 0; i < count; i++)
        {
            // Every combination equally often, in a shuffled order.
            var disc = i % 2 == 0;
            var red = i / 2 % 2 == 0;
            var name = string.Create(CultureInfo.InvariantCulture, $"img{i:000}.png");
            File.WriteAllBytes(Path.Combine(folder, name), Draw(disc, red, random));
            lines.Add($"{name},\"{(disc ? "disc" : "square")};{(red ? "red" : "blue")}\"");
        }
        var manifest = Path.Combine(folder, "manifest.csv");
        File.WriteAllLines(manifest, lines);
        return manifest;
    }

    private static byte[] Draw(bool disc, bool red, Random random)
    {
        const int side = 96;
        using var bitmap = new SKBitmap(side, side);
        using (var canvas = new SKCanvas(bitmap))
        {
            var grey = (byte)random.Next(60, 200);
            canvas.Clear(new SKColor(grey, (byte)Math.Min(255, grey + random.Next(0, 50)), grey));
            using var speckle = new SKPaint { Color = new SKColor(30, 30, 30) };
            for (var k = 0; k < 40; k++) canvas.DrawRect(random.Next(side), random.Next(side), 2, 2, speckle);
            // A scatter of the shape at random sizes: the shape's edges fill the image, which even random filters pick up.
            var tone = (byte)random.Next(190, 256);
            using var paint = new SKPaint { Color = red ? new SKColor(tone, 20, 20) : new SKColor(20, 20, tone), IsAntialias = true };
            for (var k = 0; k < 9; k++)
            {
                var size = random.Next(12, 22);
                var (x, y) = (k % 3 * 32 + random.Next(0, 32 - size), k / 3 * 32 + random.Next(0, 32 - size));
                if (disc) canvas.DrawCircle(x + size / 2f, y + size / 2f, size / 2f, paint);
                else canvas.DrawRect(x, y, size, size, paint);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
