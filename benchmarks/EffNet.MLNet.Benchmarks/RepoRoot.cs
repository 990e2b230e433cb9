namespace EffNet.MLNet.Benchmarks;

internal static class RepoRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EffNet.MLNet.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run the benchmark from inside the repository.");
    }
}
