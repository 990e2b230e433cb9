using EffNet.MLNet.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;

namespace EffNet.MLNet;

/// <summary>
/// The square a served model resizes every image to, when serving may make that square itself from the
/// decode: then a request holds one full-size copy of the pixels (the decode) instead of three (the decode,
/// ML.NET's <see cref="MLImage"/> of it, and the copy ML.NET's resize draws from). It may when
/// <list type="bullet">
/// <item>the model's first step, after copies of the image column, is a <c>ResizeImages</c> to a square;</item>
/// <item>nothing after it reads the full-size image (the rest of the model still runs with every other image
/// column made unreadable); and</item>
/// <item>that step, given two probe images with transparency (one wide, one tall), gives exactly the pixels
/// <see cref="FastImageDecoder"/> draws: so ML.NET's resize of the square is the identity and its pixels are
/// the ones the saved chain would have made.</item>
/// </list>
/// Otherwise (another resize kind or anchor, a model that reads the image twice) the whole image is handed to
/// the model as before.
/// </summary>
internal static class ServingInputSquare
{
    /// <summary>The side of the square, or null when serving must hand the model the full image.</summary>
    public static int? Find(MLContext ml, ServingModel serving)
    {
        var steps = ((IEnumerable<ITransformer>)serving.Model).ToList();
        var schema = ImageSchema(serving.ImageColumn, new ImageDataViewType());
        var at = 0;
        for (; at < steps.Count && steps[at] is ColumnCopyingTransformer; at++) schema = steps[at].GetOutputSchema(schema);
        if (at == steps.Count || steps[at] is not ImageResizingTransformer resize) return null;
        var resized = resize.GetOutputSchema(schema);
        var squares = resized.Where(c => !c.IsHidden && c.Type is ImageDataViewType { Width: > 0, Height: > 0 } t && t.Width == t.Height).ToList();
        if (squares.Count != 1) return null;
        var size = ((ImageDataViewType)squares[0].Type).Width;
        var square = squares[0].Name;
        return ReadsOnlyTheSquare(steps.Skip(at + 1), resized, square) && ResizesAsWeDo(ml, resize, schema, square, size) ? size : null;
    }

    // The rest of the model, with every image column but the square made a number: does it still make its outputs?
    private static bool ReadsOnlyTheSquare(IEnumerable<ITransformer> rest, DataViewSchema resized, string square)
    {
        var builder = new DataViewSchema.Builder();
        foreach (var column in resized.Where(c => !c.IsHidden))
            builder.AddColumn(column.Name, column.Type is ImageDataViewType && column.Name != square ? NumberDataViewType.Single : column.Type, column.Annotations);
        var schema = builder.ToSchema();
        try
        {
            foreach (var step in rest) schema = step.GetOutputSchema(schema);
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
        return schema.GetColumnOrNull("PredictedLabel") is not null && schema.GetColumnOrNull("Score") is not null;
    }

    private static bool ResizesAsWeDo(MLContext ml, ImageResizingTransformer resize, DataViewSchema input, string square, int size)
    {
        foreach (var (width, height) in new[] { (61, 37), (37, 61) })
        {
            var rgba = ProbePixels(width, height);
            using var probe = MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, rgba);
            using var decoded = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
            rgba.CopyTo(decoded.GetPixelSpan());
            using var ours = FastImageDecoder.Square("probe", decoded, size);
            if (!Same(Resized(ml, resize, input, square, probe), ours.GetPixelSpan(), size)) return false;
        }
        return true;
    }

    // ML.NET's resize of one image given in every image column of input (copies hold the same image).
    private static byte[] Resized(MLContext ml, ImageResizingTransformer resize, DataViewSchema input, string square, MLImage probe)
    {
        var definition = SchemaDefinition.Create(typeof(ModelGeneration.ImageRow));
        var images = input.Where(c => !c.IsHidden && c.Type is ImageDataViewType).Select(c => c.Name).ToList();
        definition[0].ColumnName = images[0];
        IDataView rows = ml.Data.LoadFromEnumerable([new ModelGeneration.ImageRow { Image = probe }], definition);
        foreach (var copy in images.Skip(1)) rows = ml.Transforms.CopyColumns(copy, images[0]).Fit(rows).Transform(rows);
        var output = resize.Transform(rows);
        var column = output.Schema[square];
        using var cursor = output.GetRowCursor([column]);
        var getter = cursor.GetGetter<MLImage>(column);
        MLImage image = null!;
        cursor.MoveNext();
        getter(ref image);
        var bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        var pixels = image.Pixels.ToArray();
        if (bgra)
            for (var i = 0; i < pixels.Length; i += 4) (pixels[i], pixels[i + 2]) = (pixels[i + 2], pixels[i]);
        return pixels;
    }

    private static bool Same(ReadOnlySpan<byte> theirs, ReadOnlySpan<byte> ours, int size)
    {
        if (theirs.Length != size * size * 4 || ours.Length != size * size * 4) return false;
        for (var i = 0; i < theirs.Length; i += 4)
            if (theirs[i] != ours[i] || theirs[i + 1] != ours[i + 1] || theirs[i + 2] != ours[i + 2]) return false;
        return true;
    }

    // Premultiplied RGBA with every alpha from opaque to clear (each colour at most its alpha), as a decode gives.
    private static byte[] ProbePixels(int width, int height)
    {
        var pixels = new byte[width * height * 4];
        var state = 0x9E3779B9u;
        for (var i = 0; i < pixels.Length; i += 4)
        {
            state = state * 1664525 + 1013904223;
            var alpha = (byte)(i % 3 == 0 ? 255 : state >> 24);
            pixels[i] = (byte)((state >> 8 & 0xFF) * alpha / 255);
            pixels[i + 1] = (byte)((state >> 16 & 0xFF) * alpha / 255);
            pixels[i + 2] = (byte)((state & 0xFF) * alpha / 255);
            pixels[i + 3] = alpha;
        }
        return pixels;
    }

    private static DataViewSchema ImageSchema(string column, DataViewType type)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(column, type);
        return builder.ToSchema();
    }
}
