namespace EffNet.MLNet.FineTuning.Data;

/// <summary>
/// A small random stream (SplitMix64) whose sequence is fixed by its key, so every draw for an image is
/// a function of (seed, epoch, image index) alone: results do not depend on the order images are
/// visited, on threads, or on the runtime's <see cref="Random"/> (whose seeded sequence .NET does not promise to keep).
/// </summary>
internal struct SeededRandom
{
    private ulong _state;

    private SeededRandom(ulong state) => _state = state;

    /// <summary>The stream for one purpose (<paramref name="stream"/>) of one image in one epoch.</summary>
    public static SeededRandom For(int seed, int epoch, long index, ulong stream = 0)
    {
        var state = Mix((ulong)(uint)seed ^ 0x5EED_0000_0000_0000UL);
        state = Mix(state ^ (ulong)(uint)epoch);
        state = Mix(state ^ (ulong)index);
        return new SeededRandom(Mix(state ^ stream));
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, <paramref name="count"/>).</summary>
    public int NextInt(int count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "The count must be positive.");
        // Rejection keeps it unbiased; for the small counts used here it almost never loops.
        var limit = ulong.MaxValue - ulong.MaxValue % (ulong)count;
        ulong draw;
        do draw = NextUInt64(); while (draw >= limit);
        return (int)(draw % (ulong)count);
    }

    /// <summary>True with probability <paramref name="probability"/>.</summary>
    public bool Chance(double probability) => NextDouble() < probability;

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
