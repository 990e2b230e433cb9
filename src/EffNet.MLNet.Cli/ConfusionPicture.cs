using EffNet.MLNet.Sweep;
using EffNet.MLNet.Training;
using SkiaSharp;

namespace EffNet.MLNet.Cli;

/// <summary>
/// model.confusion.png: the validation confusion matrix as a heat map (rows: true label,
/// columns: predicted; darker = more images), drawn with SkiaSharp, which ML.NET's image
/// support already brings.
/// </summary>
internal static class ConfusionPicture
{
    private const int Cell = 64;
    private const int Margin = 140;

    public static void Save(ClassificationMetrics metrics, string path)
    {
        var n = metrics.Labels.Count;
        var size = Margin + n * Cell + 20;
        using var surface = SKSurface.Create(new SKImageInfo(size, size));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var text = new TextStyle(SKColors.Black, 14);
        using var fill = new SKPaint { Style = SKPaintStyle.Fill };
        using var grid = new SKPaint { Style = SKPaintStyle.Stroke, Color = SKColors.Gray };

        for (var t = 0; t < n; t++)
        {
            var rowTotal = Math.Max(1, metrics.ConfusionMatrix[t].Sum());
            for (var p = 0; p < n; p++)
            {
                var count = metrics.ConfusionMatrix[t][p];
                var share = count / (double)rowTotal;
                var shade = (byte)(255 - 200 * share);
                fill.Color = t == p ? new SKColor(shade, 255, shade) : new SKColor(255, shade, shade);
                var rect = SKRect.Create(Margin + p * Cell, Margin + t * Cell, Cell, Cell);
                canvas.DrawRect(rect, fill);
                canvas.DrawRect(rect, grid);
                text.Draw(canvas, count.ToString(System.Globalization.CultureInfo.InvariantCulture), rect.MidX - 8, rect.MidY + 5);
            }
            text.Draw(canvas, Clip(metrics.Labels[t]), 8, Margin + t * Cell + Cell / 2 + 5);
            canvas.Save();
            canvas.RotateDegrees(-90, Margin + t * Cell + Cell / 2 + 5, Margin - 8);
            text.Draw(canvas, Clip(metrics.Labels[t]), Margin + t * Cell + Cell / 2 + 5, Margin - 8);
            canvas.Restore();
        }
        text.Draw(canvas, "true ↓  predicted →", 8, 20);

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, data.SaveTo);
    }

    private static string Clip(string label) => label.Length <= 16 ? label : label[..15] + "…";
}
