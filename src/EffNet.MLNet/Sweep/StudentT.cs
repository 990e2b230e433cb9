namespace EffNet.MLNet.Sweep;

/// <summary>
/// Student's t distribution for any (real, positive) degrees of freedom: its CDF through the
/// regularized incomplete beta function, its quantiles by bracketing and bisection on that CDF
/// (to double precision; no table, so no jump to the normal's 1.96 past some row).
/// </summary>
internal static class StudentT
{
    /// <summary>P(T ≤ <paramref name="t"/>) for T with <paramref name="degrees"/> degrees of freedom.</summary>
    public static double Cdf(double t, double degrees)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(degrees);
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsPositiveInfinity(t)) return 1;
        if (double.IsNegativeInfinity(t)) return 0;
        // P(|T| > |t|) = I_{ν/(ν+t²)}(ν/2, 1/2).
        var tail = 0.5 * RegularizedBeta(degrees / (degrees + t * t), degrees / 2, 0.5);
        return t >= 0 ? 1 - tail : tail;
    }

    /// <summary>The <paramref name="p"/> quantile: the t with <see cref="Cdf"/>(t) = p.</summary>
    public static double Quantile(double p, double degrees)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(degrees);
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "A quantile needs 0 < p < 1.");
        if (p < 0.5) return -Quantile(1 - p, degrees);
        if (p == 0.5) return 0;
        double low = 0, high = 1;
        while (Cdf(high, degrees) < p) { low = high; high *= 2; }
        // Bisection to the last representable step: the CDF is monotone, so this cannot wander.
        for (var i = 0; i < 200 && high - low > 1e-15 * Math.Max(1, high); i++)
        {
            var mid = 0.5 * (low + high);
            if (Cdf(mid, degrees) < p) low = mid; else high = mid;
        }
        return 0.5 * (low + high);
    }

    /// <summary>I_x(a, b), the regularized incomplete beta function.</summary>
    internal static double RegularizedBeta(double x, double a, double b)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        var logFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x);
        // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) beyond.
        return x < (a + 1) / (a + b + 2)
            ? Math.Exp(logFront) * BetaFraction(x, a, b) / a
            : 1 - Math.Exp(logFront) * BetaFraction(1 - x, b, a) / b;
    }

    // The continued fraction of I_x(a,b), evaluated by the modified Lentz method.
    private static double BetaFraction(double x, double a, double b)
    {
        const double tiny = 1e-300;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        var result = d;
        for (var m = 1; m <= 1000; m++)
        {
            // Even step: m(b−m)x / ((a+2m−1)(a+2m)).
            var even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            d = 1 + even * d;
            if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + even / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            result *= d * c;
            // Odd step: −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)).
            var odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            d = 1 + odd * d;
            if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + odd / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            var step = d * c;
            result *= step;
            if (Math.Abs(step - 1) < 1e-16) break;
        }
        return result;
    }

    // ln Γ(x) for x > 0: Lanczos' approximation (g = 7, nine terms), reflected below ½.
    internal static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        var sum = c[0];
        for (var i = 1; i < c.Length; i++) sum += c[i] / (x + i);
        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
