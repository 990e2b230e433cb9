using System.Diagnostics;

namespace EffNet.MLNet.Tests;

/// <summary>Runs a program to completion and returns its exit code and both output streams.</summary>
internal static class ProcessRunner
{
    /// <summary>The exit code reported for a run killed at its time limit.</summary>
    public const int TimedOut = -999;

    /// <exception cref="InvalidOperationException">It would start effnet without a home of its own (see <see cref="CheckEffnetHome"/>).</exception>
    public static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var argList = args.ToList();
        CheckEffnetHome(file, argList, environment);
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argList) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        // A test of input that could hang (a FIFO) must fail, not hang the suite: past the limit the run is killed.
        if (!p.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (TimedOut, stdout.Result, stderr.Result + $"\n(killed after {timeout!.Value.TotalSeconds:0} s)");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// A test's effnet must not read or fill the user's ~/.cache/effnet (weights, feature cache): one run's
    /// features would be served to another, and a test would pass or fail by what ran before it. So every
    /// effnet a test starts gets EFFNET_HOME in a folder of its own under the temp directory, or is refused.
    /// </summary>
    internal static void CheckEffnetHome(string file, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var isEffnet = Path.GetFileName(file) is "effnet" or "effnet.exe" || (args.Count > 0 && Path.GetFileName(args[0]) == "effnet.dll");
        if (!isEffnet) return;
        var temp = Path.GetFullPath(Path.GetTempPath());
        if (environment is null || !environment.TryGetValue("EFFNET_HOME", out var home) || string.IsNullOrWhiteSpace(home)
            || !Path.GetFullPath(home).StartsWith(temp, StringComparison.Ordinal) || Path.GetFullPath(home).TrimEnd('/') == temp.TrimEnd('/'))
            throw new InvalidOperationException($"A test started effnet without EFFNET_HOME in a temp folder of its own; it would share ~/.cache/effnet. Use CliTests.Effnet or pass EFFNET_HOME=<a TempDir>.");
    }
}
