using System.Diagnostics;

namespace EffNet.MLNet.Tests;

/// <summary>Runs a program to completion and returns its exit code and both output streams.</summary>
internal static class ProcessRunner
{
    /// <summary>The exit code reported for a run killed at its time limit.</summary>
    public const int TimedOut = -999;

    public static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
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
}
