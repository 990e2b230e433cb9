namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// torchvision's <c>ColorJitter(brightness, contrast, saturation)</c> with one strength for the three and no
/// hue: each factor drawn uniformly in [max(0, 1 − strength), 1 + strength], the three applied in a random order.
/// </summary>
internal static class ColorJitter
{
    public static void Apply(Span<float> pixels, ref SeededRandom random, double strength)
    {
        if (strength <= 0) return;
        Span<int> order = stackalloc int[] { 0, 1, 2 };
        for (var i = 2; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        Span<float> factors = stackalloc float[3];
        for (var i = 0; i < 3; i++) factors[i] = (float)random.Uniform(Math.Max(0, 1 - strength), 1 + strength);
        foreach (var which in order)
        {
            switch (which)
            {
                case 0: ColorOps.Brightness(pixels, factors[0]); break;
                case 1: ColorOps.Contrast(pixels, factors[1]); break;
                default: ColorOps.Saturation(pixels, factors[2]); break;
            }
        }
    }
}
