using EffNet.MLNet.FineTuning.Data;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>Images the data tests write at test time (PNG, through the library's own encoder).</summary>
internal static class DataImages
{
    /// <summary>A PNG of <paramref name="width"/>×<paramref name="height"/> whose pixel (x, y) is <paramref name="color"/>(x, y).</summary>
    public static string Write(TempDir dir, string name, int width, int height, Func<int, int, (byte R, byte G, byte B)> color)
    {
        var rgba = new byte[4 * width * height];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var (r, g, b) = color(x, y);
                var at = 4 * (y * width + x);
                (rgba[at], rgba[at + 1], rgba[at + 2], rgba[at + 3]) = (r, g, b, 255);
            }
        var path = dir.File(name);
        File.WriteAllBytes(path, PngEncoder.Encode(rgba, width, height));
        return path;
    }

    /// <summary>A busy picture: gradients in each channel crossed with a checker and a disc, so any resampling or shift shows.</summary>
    public static string Busy(TempDir dir, string name, int width, int height) => Write(dir, name, width, height, (x, y) =>
    {
        var checker = ((x / 5) + (y / 7)) % 2 == 0 ? 60 : 0;
        var dx = x - width / 3.0;
        var dy = y - height / 2.0;
        var disc = dx * dx + dy * dy < height * height / 16.0 ? 90 : 0;
        return ((byte)Math.Min(255, x * 255 / width / 2 + checker + disc), (byte)(y * 255 / height), (byte)Math.Min(255, 200 - checker + disc / 2));
    });

    /// <summary>Red on the left half, blue on the right: a picture whose mirror image is told apart by its colours alone.</summary>
    public static string RedLeftBlueRight(TempDir dir, int width = 64, int height = 48) =>
        Write(dir, "red-left-blue-right.png", width, height, (x, _) => x < width / 2 ? ((byte)255, (byte)0, (byte)0) : ((byte)0, (byte)0, (byte)255));

    /// <summary>Pure red on the top half, pure blue on the bottom half.</summary>
    public static string RedTopBlueBottom(TempDir dir, int width = 64, int height = 48) =>
        Write(dir, "red-top-blue-bottom.png", width, height, (_, y) => y < height / 2 ? ((byte)255, (byte)0, (byte)0) : ((byte)0, (byte)0, (byte)255));
}
