using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EffNet.MLNet.Imaging;

/// <summary>
/// Pillow's resize of an 8-bit image (<c>Image.resize</c> with BICUBIC or BILINEAR, no reducing gap),
/// reproduced step for step: separable, the horizontal pass first into an 8-bit intermediate (rounded
/// and clamped as Pillow does), then the vertical pass. Only a window of the resized image is computed
/// (what a centre crop keeps); each output pixel depends on its own taps alone, so the window's pixels
/// equal those of the whole resized image.
/// </summary>
internal static class AntialiasedResize
{
    /// <summary>
    /// Resize the RGBA pixels in <paramref name="source"/> (<paramref name="width"/>×<paramref name="height"/>,
    /// <paramref name="rowBytes"/> apart; alpha ignored) to <paramref name="outWidth"/>×<paramref name="outHeight"/>
    /// and return the window <paramref name="window"/> of the result as packed RGB bytes.
    /// </summary>
    public static byte[] Resize(ReadOnlySpan<byte> source, int width, int height, int rowBytes, int outWidth, int outHeight,
        ResampleFilter filter, (int X, int Y, int Width, int Height) window)
    {
        if (window.X < 0 || window.Y < 0 || window.Width < 1 || window.Height < 1 || window.X + window.Width > outWidth || window.Y + window.Height > outHeight)
            throw new ArgumentOutOfRangeException(nameof(window), window, $"The window must lie inside the {outWidth}×{outHeight} result.");
        var horizontal = ResampleAxis.Create(width, outWidth, filter);
        var vertical = ResampleAxis.Create(height, outHeight, filter);
        // The source rows the window's output rows read.
        var firstRow = vertical.First[window.Y];
        var lastRow = vertical.First[window.Y + window.Height - 1] + vertical.Count[window.Y + window.Height - 1];
        var rows = lastRow - firstRow;
        var stripe = window.Width * 3;
        var intermediate = new byte[rows * stripe];
        for (var y = 0; y < rows; y++)
            Horizontal(source.Slice((firstRow + y) * rowBytes, width * 4), horizontal, window.X, window.Width, intermediate.AsSpan(y * stripe, stripe));
        var result = new byte[window.Height * stripe];
        var sums = new int[stripe];
        for (var y = 0; y < window.Height; y++)
        {
            var o = window.Y + y;
            sums.AsSpan().Fill(ResampleAxis.Half);
            var from = vertical.First[o] - firstRow;
            var taps = vertical.Weights.AsSpan(o * vertical.Stride, vertical.Count[o]);
            for (var t = 0; t < taps.Length; t++)
            {
                var w = taps[t];
                var row = intermediate.AsSpan((from + t) * stripe, stripe);
                for (var i = 0; i < stripe; i++) sums[i] += row[i] * w;
            }
            var target = result.AsSpan(y * stripe, stripe);
            for (var i = 0; i < stripe; i++) target[i] = Clip8(sums[i]);
        }
        return result;
    }

    // One source row (RGBA) into the window's columns (RGB). The hot loop of a large photo: indexed through
    // refs, as the taps' bounds were checked when they were made (they lie inside the row).
    private static void Horizontal(ReadOnlySpan<byte> row, ResampleAxis axis, int firstColumn, int columns, Span<byte> target)
    {
        ref var source = ref MemoryMarshal.GetReference(row);
        ref var weights = ref MemoryMarshal.GetArrayDataReference(axis.Weights);
        for (var x = 0; x < columns; x++)
        {
            var o = firstColumn + x;
            ref var w = ref Unsafe.Add(ref weights, o * axis.Stride);
            ref var p = ref Unsafe.Add(ref source, axis.First[o] * 4);
            int r = ResampleAxis.Half, g = ResampleAxis.Half, b = ResampleAxis.Half;
            for (int t = 0, n = axis.Count[o]; t < n; t++)
            {
                var k = Unsafe.Add(ref w, t);
                ref var pixel = ref Unsafe.Add(ref p, 4 * t);
                r += pixel * k;
                g += Unsafe.Add(ref pixel, 1) * k;
                b += Unsafe.Add(ref pixel, 2) * k;
            }
            target[3 * x] = Clip8(r);
            target[3 * x + 1] = Clip8(g);
            target[3 * x + 2] = Clip8(b);
        }
    }

    // Pillow's clip8: the fixed-point sum shifted down (an arithmetic shift: floor), clamped to a byte.
    private static byte Clip8(int sum) => (byte)Math.Clamp(sum >> ResampleAxis.PrecisionBits, 0, 255);
}
