using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Tests;

/// <summary>The arithmetic of torchvision's Resize and CenterCrop and of Pillow's taps, on cases worked out by hand.</summary>
public class TorchvisionGeometryTests
{
    [Theory]
    [InlineData(427, 640, 256, 256, 383)]    // int(256 · 640 / 427) = int(383.7): truncated, not rounded
    [InlineData(640, 427, 256, 383, 256)]
    [InlineData(500, 500, 256, 256, 256)]
    [InlineData(4000, 6000, 255, 255, 382)]  // torchvision's B1 V2 weights' resize
    public void Resize_sets_the_shorter_side_and_truncates_the_longer(int width, int height, int resize, int expectedWidth, int expectedHeight) =>
        Assert.Equal((expectedWidth, expectedHeight), TorchvisionImageDecoder.ResizedSize(width, height, resize));

    [Theory]
    [InlineData(383, 224, 80)]   // 79.5 rounds to the even 80
    [InlineData(341, 224, 58)]   // 58.5 rounds to the even 58
    [InlineData(256, 224, 16)]
    [InlineData(255, 240, 8)]    // 7.5 → 8, where the graph's own crop starts at 7
    public void Centre_crop_rounds_half_to_even_as_python(int length, int crop, int start) =>
        Assert.Equal(start, TorchvisionImageDecoder.CropStart(length, crop));

    [Fact]
    public void Bicubic_weights_sum_to_one_and_a_same_size_resize_is_the_identity()
    {
        var down = ResampleAxis.Create(6000, 383, ResampleFilter.Bicubic);
        for (var i = 0; i < 383; i++)
        {
            var sum = down.Weights.AsSpan(i * down.Stride, down.Count[i]).ToArray().Sum();
            Assert.InRange(sum, (1 << 22) - 64, (1 << 22) + 64);
        }
        Assert.Equal(65, down.Stride);   // support 2 · 15.67 → 2 · 32 + 1 taps
        var same = ResampleAxis.Create(10, 10, ResampleFilter.Bicubic);
        for (var i = 0; i < 10; i++)
            Assert.Equal(1 << 22, same.Weights[i * same.Stride + i - same.First[i]]);
    }

    [Fact]
    public void B1_square_puts_torchvisions_crop_where_the_graph_takes_it()
    {
        // A 300×300 gradient to a 255 square with a 240 crop (torchvision's B1 V2 weights): torchvision crops 240 from offset 8, the graph from 7,
        // so square column c holds resized column c + 1 (the last, never read, repeats the edge).
        const int side = 300;
        var rgba = new byte[side * side * 4];
        for (var y = 0; y < side; y++)
        for (var x = 0; x < side; x++)
        {
            rgba[(y * side + x) * 4] = (byte)(x * 255 / (side - 1));
            rgba[(y * side + x) * 4 + 1] = (byte)(y * 255 / (side - 1));
        }
        var square = new float[3 * 255 * 255];
        TorchvisionImageDecoder.Write(rgba, side, side, side * 4, 255, 240, ResampleFilter.Bilinear, square);
        var resized = AntialiasedResize.Resize(rgba, side, side, side * 4, 255, 255, ResampleFilter.Bilinear, (0, 0, 255, 255));
        for (var c = 0; c < 254; c++)
        {
            Assert.Equal(resized[(10 * 255 + c + 1) * 3], square[10 * 255 + c]);           // red follows x
            Assert.Equal(resized[((c + 1) * 255 + 10) * 3 + 1], square[255 * 255 + c * 255 + 10]); // green follows y
        }
        Assert.Equal(resized[(10 * 255 + 254) * 3], square[10 * 255 + 254]);
    }
}
