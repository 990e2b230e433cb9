using System.Globalization;
using EffNet.MLNet.Architecture;
using SkiaSharp;

namespace EffNet.MLNet.Sweep;

/// <summary>
/// <c>sweep.png</c>: cross-validated accuracy against measured milliseconds per image (log axis),
/// one labelled point per variant with its fold interval, and the Pareto frontier — the user's own
/// version of the paper's accuracy-against-size figure. A sweep that mixes families (B, V2, Lite) marks
/// each family with its own colour and shape, with a legend. Drawn with SkiaSharp, which ML.NET's image
/// support already brings (a plotting package would bring another SkiaSharp and change how every image decodes).
/// </summary>
public static class SweepChart
{
    /// <summary>Width of the picture in pixels.</summary>
    public const int Width = 960;

    /// <summary>Height of the picture in pixels.</summary>
    public const int Height = 640;

    private const float Left = 90, Right = 40, Top = 80, Bottom = 70;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Write the chart of <paramref name="result"/> as a PNG, through a temporary file.</summary>
    public static void Save(SweepResult result, string path)
    {
        var png = Render(result);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>The chart of <paramref name="result"/> as PNG bytes (<see cref="Width"/> × <see cref="Height"/>).</summary>
    public static byte[] Render(SweepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var text = new TextStyle(SKColors.Black, 14);
        using var title = new TextStyle(SKColors.Black, 18, bold: true);
        using var warning = new TextStyle(new SKColor(180, 30, 30), 14);
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        using var frontier = new SKPaint { Color = new SKColor(230, 120, 20), StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var point = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var bar = new SKPaint { StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };

        title.Draw(canvas, string.Create(Inv, $"Accuracy against cost on this machine: {result.Images} images, {result.Folds}-fold linear probe ({result.Trainer}), {result.Precision}"), Left, 30);
        if (result.Warning is not null)
            warning.Draw(canvas, "Random weights: these accuracies say nothing about pretrained behaviour.", Left, 54);

        var done = result.Variants.Where(v => v.Completed).ToList();
        var plot = new SKRect(Left, Top, Width - Right, Height - Bottom);
        canvas.DrawRect(plot, axis);
        text.Draw(canvas, "milliseconds per image, batch 1 (log scale)", plot.MidX - 140, Height - 20);
        canvas.Save();
        canvas.RotateDegrees(-90, 24, plot.MidY + 110);
        text.Draw(canvas, "cross-validated accuracy (95% fold interval)", 24, plot.MidY + 110);
        canvas.Restore();
        if (done.Count == 0)
        {
            text.Draw(canvas, "No variant was evaluated.", plot.MidX - 80, plot.MidY);
            return Encode(surface);
        }

        var (xLow, xHigh) = LogRange(done.Min(v => v.MillisecondsPerImage!.Value), done.Max(v => v.MillisecondsPerImage!.Value));
        var (yLow, yHigh) = AccuracyRange(done.Min(v => v.Accuracy!.Low), done.Max(v => v.Accuracy!.High));
        float X(double ms) => plot.Left + (float)((Math.Log10(ms) - xLow) / (xHigh - xLow)) * plot.Width;
        float Y(double accuracy) => plot.Bottom - (float)((accuracy - yLow) / (yHigh - yLow)) * plot.Height;

        foreach (var tick in LogTicks(xLow, xHigh))
        {
            var x = X(tick);
            canvas.DrawLine(x, plot.Top, x, plot.Bottom, grid);
            text.Draw(canvas, tick.ToString("0.###", Inv), x - 10, plot.Bottom + 20);
        }
        var step = yHigh - yLow > 0.3 ? 0.1 : 0.05;
        for (var tick = Math.Ceiling(yLow / step) * step; tick <= yHigh + 1e-9; tick += step)
        {
            var y = Y(tick);
            canvas.DrawLine(plot.Left, y, plot.Right, y, grid);
            text.Draw(canvas, tick.ToString("P0", Inv), plot.Left - 48, y + 5);
        }
        canvas.DrawRect(plot, axis);

        var content = Content(result);
        var frontierPoints = content.FrontierLine.Select(name => done.First(v => v.Variant == name)).ToList();
        for (var i = 1; i < frontierPoints.Count; i++)
            canvas.DrawLine(X(frontierPoints[i - 1].MillisecondsPerImage!.Value), Y(frontierPoints[i - 1].Accuracy!.Mean),
                X(frontierPoints[i].MillisecondsPerImage!.Value), Y(frontierPoints[i].Accuracy!.Mean), frontier);

        foreach (var v in done)
        {
            var family = content.Families[v.Variant];
            point.Color = bar.Color = Colour(family);
            var x = X(v.MillisecondsPerImage!.Value);
            canvas.DrawLine(x, Y(v.Accuracy!.Low), x, Y(v.Accuracy.High), bar);
            canvas.DrawLine(x - 5, Y(v.Accuracy.Low), x + 5, Y(v.Accuracy.Low), bar);
            canvas.DrawLine(x - 5, Y(v.Accuracy.High), x + 5, Y(v.Accuracy.High), bar);
            Marker(canvas, family, x, Y(v.Accuracy.Mean), point);
            text.Draw(canvas, content.Labels[v.Variant], x + 9, Y(v.Accuracy.Mean) - 8);
        }
        var legendY = plot.Bottom - 15;
        if (content.Legend.Contains(FrontierLegend))
        {
            canvas.DrawLine(plot.Right - 190, legendY - 5, plot.Right - 160, legendY - 5, frontier);
            text.Draw(canvas, FrontierLegend, plot.Right - 150, legendY);
            legendY -= 22;
        }
        foreach (var family in Enum.GetValues<ArchitectureFamily>().Where(f => content.Legend.Contains(FamilyLegend(f))))
        {
            point.Color = Colour(family);
            Marker(canvas, family, plot.Right - 175, legendY - 5, point);
            text.Draw(canvas, FamilyLegend(family), plot.Right - 150, legendY);
            legendY -= 22;
        }
        return Encode(surface);
    }

    internal const string FrontierLegend = "Pareto frontier";

    internal static string FamilyLegend(ArchitectureFamily family) => family switch
    {
        ArchitectureFamily.EfficientNetV2 => "EfficientNetV2",
        ArchitectureFamily.EfficientNetLite => "EfficientNet-Lite",
        _ => "EfficientNet (B)",
    };

    private static SKColor Colour(ArchitectureFamily family) => family switch
    {
        ArchitectureFamily.EfficientNetV2 => new SKColor(20, 140, 70),
        ArchitectureFamily.EfficientNetLite => new SKColor(150, 40, 160),
        _ => new SKColor(30, 90, 180),
    };

    // A circle, a square or a diamond: the families stay apart in grey print too.
    private static void Marker(SKCanvas canvas, ArchitectureFamily family, float x, float y, SKPaint paint)
    {
        switch (family)
        {
            case ArchitectureFamily.EfficientNetV2:
                canvas.DrawRect(x - 5.5f, y - 5.5f, 11, 11, paint);
                break;
            case ArchitectureFamily.EfficientNetLite:
                using (var path = new SKPath())
                {
                    path.MoveTo(x, y - 7);
                    path.LineTo(x + 7, y);
                    path.LineTo(x, y + 7);
                    path.LineTo(x - 7, y);
                    path.Close();
                    canvas.DrawPath(path, paint);
                }
                break;
            default:
                canvas.DrawCircle(x, y, 6, paint);
                break;
        }
    }

    // A result's variant strings are the names it was run with; an unreadable one (an older sweep.json) counts as B.
    private static ArchitectureFamily FamilyOf(string variant)
    {
        try { return EfficientNetVariant.Parse(variant).Family; }
        catch (ArgumentException) { return ArchitectureFamily.EfficientNet; }
    }

    /// <summary>What the chart draws, decided before drawing so that it can be checked without reading pixels.</summary>
    /// <param name="Labels">The text beside each evaluated variant's point.</param>
    /// <param name="FrontierLine">The variants the frontier line joins, fastest first (no line for fewer than two).</param>
    /// <param name="Legend">The legend's entries: only for what is drawn (the families only when the sweep mixes them).</param>
    /// <param name="Families">Each evaluated variant's family, which picks its marker.</param>
    internal sealed record ChartContent(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<string> FrontierLine, IReadOnlyList<string> Legend,
        IReadOnlyDictionary<string, ArchitectureFamily> Families);

    /// <summary>
    /// The labels, frontier line and legend of <paramref name="result"/>'s chart. The recommended point is on the
    /// frontier (the rule picks from it); should a result say otherwise (an older sweep.json), its label says why.
    /// </summary>
    internal static ChartContent Content(SweepResult result)
    {
        var done = result.Variants.Where(v => v.Completed).ToList();
        var onFrontier = result.ParetoFrontier.ToHashSet(StringComparer.Ordinal);
        var line = done.Where(v => onFrontier.Contains(v.Variant)).OrderBy(v => v.MillisecondsPerImage).Select(v => v.Variant).ToList();
        var labels = done.ToDictionary(v => v.Variant, v => v.Variant != result.Recommendation.Variant ? v.Variant
            : onFrontier.Contains(v.Variant) ? v.Variant + " (recommended)"
            : v.Variant + " (recommended, though off the measured frontier)");
        var families = done.ToDictionary(v => v.Variant, v => FamilyOf(v.Variant));
        var legend = new List<string>();
        if (line.Count >= 2) legend.Add(FrontierLegend);
        var shown = families.Values.Distinct().Order().ToList();
        if (shown.Count > 1) legend.AddRange(shown.Select(FamilyLegend));
        return new ChartContent(labels, line.Count >= 2 ? line : [], legend, families);
    }

    private static byte[] Encode(SKSurface surface)
    {
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    // log10 bounds with room around the points; a single cost gets a decade around it.
    private static (double Low, double High) LogRange(double min, double max)
    {
        var low = Math.Log10(Math.Max(min, 1e-3));
        var high = Math.Log10(Math.Max(max, 1e-3));
        var pad = Math.Max(0.15, (high - low) * 0.1);
        return (low - pad, high + pad);
    }

    private static (double Low, double High) AccuracyRange(double min, double max)
    {
        var low = Math.Max(0, Math.Floor((min - 0.02) * 20) / 20);
        var high = Math.Min(1, Math.Ceiling((max + 0.02) * 20) / 20);
        return high - low < 0.1 ? (Math.Max(0, high - 0.1), Math.Max(0.1, high)) : (low, high);
    }

    // 1, 2 and 5 times each power of ten inside the range; every integer multiple when that gives fewer than three.
    private static IEnumerable<double> LogTicks(double low, double high)
    {
        var coarse = Ticks(low, high, [1, 2, 5]).ToList();
        return coarse.Count >= 3 ? coarse : Ticks(low, high, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    private static IEnumerable<double> Ticks(double low, double high, double[] multiples)
    {
        for (var exponent = (int)Math.Floor(low); exponent <= (int)Math.Ceiling(high); exponent++)
            foreach (var m in multiples)
            {
                var tick = m * Math.Pow(10, exponent);
                if (Math.Log10(tick) >= low && Math.Log10(tick) <= high) yield return tick;
            }
    }
}
