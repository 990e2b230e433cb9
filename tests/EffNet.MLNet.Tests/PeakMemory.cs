using System.Diagnostics;

namespace EffNet.MLNet.Tests;

/// <summary>Runs effnet as a child process and records its peak working set (the kernel's high-water mark, polled until it exits).</summary>
internal static class PeakMemory
{
    public static (int Code, string Out, string Err, long PeakBytes) Run(string home, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "effnet.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["EFFNET_HOME"] = home;
        psi.Environment["COLUMNS"] = "200";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var peak = 0L;
        while (!p.WaitForExit(20))
        {
            try
            {
                p.Refresh();
                peak = Math.Max(peak, p.PeakWorkingSet64);
            }
            catch (InvalidOperationException) { }   // it exited between the wait and the read
        }
        return (p.ExitCode, stdout.Result, stderr.Result, peak);
    }
}
