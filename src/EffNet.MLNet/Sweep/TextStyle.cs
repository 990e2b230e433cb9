using SkiaSharp;

namespace EffNet.MLNet.Sweep;

/// <summary>
/// Text colour, size and weight for the charts (sweep.png, model.confusion.png). SkiaSharp 3 moved
/// these from <see cref="SKPaint"/> to <see cref="SKFont"/>; one pair keeps the drawing code short.
/// </summary>
internal sealed class TextStyle : IDisposable
{
    private readonly SKPaint _paint;
    private readonly SKFont _font;

    public TextStyle(SKColor color, float size, bool bold = false)
    {
        _paint = new SKPaint { Color = color, IsAntialias = true };
        _font = new SKFont { Size = size, Embolden = bold };
    }

    public void Draw(SKCanvas canvas, string text, float x, float y) =>
        canvas.DrawText(text, x, y, SKTextAlign.Left, _font, _paint);

    public void Dispose()
    {
        _font.Dispose();
        _paint.Dispose();
    }
}
