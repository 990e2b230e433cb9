using System.Diagnostics;

namespace EffNet.MLNet.Tests;

/// <summary>effnet started in the background, its output drained; killed if the test ends first.</summary>
internal sealed class RunningEffnet : IDisposable
{
    private readonly Task<string> _out;
    private readonly Task<string> _err;

    private RunningEffnet(Process process)
    {
        Process = process;
        _out = process.StandardOutput.ReadToEndAsync();
        _err = process.StandardError.ReadToEndAsync();
    }

    public Process Process { get; }

    public static RunningEffnet Start(string home, params string[] args)
    {
        ProcessRunner.CheckEffnetHome("dotnet", [Path.Combine(AppContext.BaseDirectory, "effnet.dll")], new Dictionary<string, string> { ["EFFNET_HOME"] = home });
        // A job started in the background by a non-interactive shell (a CI runner, `run-tests.sh &`) inherits
        // SIGINT ignored, and .NET keeps an inherited ignore: restore the default disposition, then exec effnet
        // in the same process, so kill(1) reaches its handler whatever launched the tests.
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])", "dotnet"])
            psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "effnet.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["EFFNET_HOME"] = home;
        psi.Environment["COLUMNS"] = "200";
        return new RunningEffnet(Process.Start(psi)!);
    }

    public (int Code, string Out, string Err) Finish()
    {
        if (!Process.WaitForExit(TimeSpan.FromMinutes(5))) Process.Kill(entireProcessTree: true);
        Process.WaitForExit();
        return (Process.ExitCode, _out.Result, _err.Result);
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }

    /// <summary>Send SIGINT, as Ctrl+C does (kill(1): Linux and macOS).</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}
