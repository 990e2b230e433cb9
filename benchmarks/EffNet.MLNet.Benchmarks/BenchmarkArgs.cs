namespace EffNet.MLNet.Benchmarks;

internal sealed record BenchmarkArgs(string Variant, int Batch, int Rounds)
{
    public static BenchmarkArgs Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2) map[args[i].TrimStart('-')] = args[i + 1];
        return new BenchmarkArgs(
            map.GetValueOrDefault("variant", "b0"),
            int.Parse(map.GetValueOrDefault("batch", "8"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(map.GetValueOrDefault("rounds", "20"), System.Globalization.CultureInfo.InvariantCulture));
    }
}
