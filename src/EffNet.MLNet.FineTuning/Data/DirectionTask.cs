namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// A seeded image-folder task that frozen features cannot solve and fine-tuning can: four classes (up, right,
/// down, left) that differ only in the direction of their arrows: four to seven per image, each at a random
/// position, size, proportion and colour over a background of random colour, then pixel noise over everything.
/// Nothing but the arrows' direction carries the label, so global colour and texture statistics (what a linear
/// probe on random-init features reads) are near chance. Images are PNG, one folder per class.
/// </summary>
internal static class DirectionTask
{
    /// <summary>The class folders, in label order of the drawing (up, right, down, left).</summary>
    public static readonly string[] Classes = ["up", "right", "down", "left"];

    // Several small arrows per image, all pointing the class's way, over pixel noise: each image shows the shape a few
    // times, so 100 images a class are enough for a network trained from a random start to learn it (one arrow in
    // heavy clutter was learnt by neither this library nor PyTorch from 160 images: both memorised, both at chance).
    private static readonly (int Min, int Max) Arrows = (4, 7);
    private static readonly (double Min, double Max) Length = (0.15, 0.3);

    /// <summary>
    /// Write <paramref name="trainPerClass"/> images of each class under <c>root/train</c> and <paramref name="heldOutPerClass"/>
    /// under <c>root/heldout</c>, <paramref name="size"/>² pixels; the two sets come from separate random streams of <paramref name="seed"/>.
    /// </summary>
    public static (string Train, string HeldOut) WriteSplits(string root, int trainPerClass, int heldOutPerClass, int size, int seed)
    {
        var train = Path.Combine(root, "train");
        var heldOut = Path.Combine(root, "heldout");
        Write(train, trainPerClass, size, seed, split: 0);
        Write(heldOut, heldOutPerClass, size, seed, split: 1);
        return (train, heldOut);
    }

    /// <summary>Write <paramref name="perClass"/> images of each class under <paramref name="folder"/> (<c>folder/up/up_0000.png</c>, …).</summary>
    public static void Write(string folder, int perClass, int size, int seed, int split = 0)
    {
        if (perClass < 1) throw new ArgumentOutOfRangeException(nameof(perClass), perClass, "At least one image per class.");
        if (size < 16) throw new ArgumentOutOfRangeException(nameof(size), size, "Images must be at least 16 pixels wide.");
        for (var direction = 0; direction < Classes.Length; direction++)
        {
            var classFolder = Path.Combine(folder, Classes[direction]);
            Directory.CreateDirectory(classFolder);
            for (var i = 0; i < perClass; i++)
            {
                var rgba = Draw(size, direction, seed, split, i);
                File.WriteAllBytes(Path.Combine(classFolder, $"{Classes[direction]}_{i:0000}.png"), PngEncoder.Encode(rgba, size, size));
            }
        }
    }

    /// <summary>Image <paramref name="index"/> of class <paramref name="direction"/> (0 up, 1 right, 2 down, 3 left) as opaque RGBA.</summary>
    public static byte[] Draw(int size, int direction, int seed, int split, int index)
    {
        var random = SeededRandom.For(seed, split * Classes.Length + direction, index, stream: 0xD1EC);
        var rgba = new byte[4 * size * size];
        var background = RandomColor(ref random);
        for (var i = 0; i < size * size; i++) Put(rgba, i, background, 1f);
        var arrows = Arrows.Min + random.NextInt(Arrows.Max - Arrows.Min + 1);
        for (var a = 0; a < arrows; a++) DrawArrow(rgba, size, direction, ref random);
        for (var i = 0; i < size * size; i++)
            for (var c = 0; c < 3; c++)
                rgba[4 * i + c] = (byte)Math.Clamp(rgba[4 * i + c] + random.NextInt(41) - 20, 0, 255);
        return rgba;
    }

    // An arrow (a triangular head on a shaft) pointing in the class's direction, anti-aliased by 4×4 supersampling.
    private static void DrawArrow(byte[] rgba, int size, int direction, ref SeededRandom random)
    {
        var color = RandomColor(ref random);
        var length = random.Uniform(Length.Min, Length.Max) * size;
        var headHalfWidth = random.Uniform(0.3, 0.5);
        var headLength = random.Uniform(0.35, 0.6);
        var shaftHalfWidth = random.Uniform(0.08, 0.18);
        var cx = random.Uniform(length / 2, size - length / 2);
        var cy = random.Uniform(length / 2, size - length / 2);
        const int Sub = 4;
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var covered = 0;
                for (var sy = 0; sy < Sub; sy++)
                    for (var sx = 0; sx < Sub; sx++)
                    {
                        var px = (x + (sx + 0.5) / Sub - cx) / length;
                        var py = (y + (sy + 0.5) / Sub - cy) / length;
                        // The arrow's own frame: u across, v along from the tip (−½) to the tail (+½).
                        var (u, v) = direction switch
                        {
                            0 => (px, py),
                            1 => (py, -px),
                            2 => (px, -py),
                            _ => (py, px),
                        };
                        if (InArrow(u, v, headHalfWidth, headLength, shaftHalfWidth)) covered++;
                    }
                if (covered > 0) Put(rgba, y * size + x, color, covered / (float)(Sub * Sub));
            }
    }

    private static bool InArrow(double u, double v, double headHalfWidth, double headLength, double shaftHalfWidth)
    {
        if (v < -0.5 || v > 0.5) return false;
        var headEnd = -0.5 + headLength;
        if (v <= headEnd) return Math.Abs(u) <= headHalfWidth * (v + 0.5) / headLength;
        return Math.Abs(u) <= shaftHalfWidth;
    }

    private static (byte R, byte G, byte B) RandomColor(ref SeededRandom random) =>
        ((byte)random.NextInt(256), (byte)random.NextInt(256), (byte)random.NextInt(256));

    private static void Put(byte[] rgba, int pixel, (byte R, byte G, byte B) color, float coverage)
    {
        var at = 4 * pixel;
        rgba[at] = Blend(rgba[at], color.R, coverage);
        rgba[at + 1] = Blend(rgba[at + 1], color.G, coverage);
        rgba[at + 2] = Blend(rgba[at + 2], color.B, coverage);
        rgba[at + 3] = 255;
    }

    private static byte Blend(byte under, byte over, float coverage) => (byte)MathF.Round(under + coverage * (over - under));
}
