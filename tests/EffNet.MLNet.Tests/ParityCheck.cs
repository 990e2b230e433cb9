using EffNet.MLNet.Onnx;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The comparison every parity test makes, and the proof that it can fail: the same model fed
/// the mistakes a preprocessing bug would make (BGR channel order, a crop one pixel off, the
/// wrong mean) must miss the reference by more than the tolerance the correct input meets.
/// </summary>
internal static class ParityCheck
{
    /// <summary>What the parity tests allow: float32 rounding, measured at ~3e-6, with room for other CPUs.</summary>
    public const double Tolerance = 3e-5;

    /// <summary>max |a − e| / max |e|: the error relative to the scale of the reference output.</summary>
    public static double RelativeError(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(v => Math.Abs((double)v));
        return expected.Zip(actual).Max(p => Math.Abs((double)p.First - p.Second)) / scale;
    }

    public static void AssertClose(float[] expected, float[] actual, double tolerance = Tolerance)
    {
        var error = RelativeError(expected, actual);
        Assert.True(error <= tolerance, $"max relative error {error:E3} exceeds {tolerance:E1}");
    }

    /// <summary>
    /// <paramref name="run"/> on <paramref name="pixels"/> ([batch, 3, side, side], RGB 0…255)
    /// gives <paramref name="expected"/> within <paramref name="tolerance"/>, and on each mistaken
    /// version of the pixels misses it by more than that.
    /// </summary>
    public static void AssertMatchesAndCatchesMistakes(
        float[] expected, float[] pixels, int batch, Func<float[], float[]> run, double tolerance = Tolerance)
    {
        AssertClose(expected, run(pixels), tolerance);
        var side = (int)Math.Sqrt(pixels.Length / (3 * batch));
        Assert.Equal(pixels.Length, batch * 3 * side * side);
        foreach (var (mistake, input) in Mistakes(pixels, batch, side))
        {
            var error = RelativeError(expected, run(input));
            Assert.True(error > tolerance, $"with {mistake} the error is {error:E3}, within the tolerance {tolerance:E1}: the test could not catch it");
        }
    }

    public static IEnumerable<(string Mistake, float[] Pixels)> Mistakes(float[] pixels, int batch, int side)
    {
        var plane = side * side;
        var bgr = (float[])pixels.Clone();
        for (var n = 0; n < batch; n++)
        {
            Array.Copy(pixels, (n * 3 + 2) * plane, bgr, n * 3 * plane, plane);
            Array.Copy(pixels, n * 3 * plane, bgr, (n * 3 + 2) * plane, plane);
        }
        yield return ("BGR channel order", bgr);

        // The crop window one pixel to the right: every row moves one pixel left, the last column repeats.
        var shifted = new float[pixels.Length];
        for (var row = 0; row < pixels.Length / side; row++)
        {
            Array.Copy(pixels, row * side + 1, shifted, row * side, side - 1);
            shifted[row * side + side - 1] = pixels[row * side + side - 1];
        }
        yield return ("the crop shifted by one pixel", shifted);

        // Normalising with mean 0.5 instead of ImageNet's equals feeding x + 255·(mean − 0.5).
        var wrongMean = (float[])pixels.Clone();
        for (var i = 0; i < wrongMean.Length; i++)
            wrongMean[i] += 255f * (FeatureExtractorOptions.ImageNetMean[i / plane % 3] - 0.5f);
        yield return ("mean 0.5 instead of ImageNet's", wrongMean);
    }
}
