using System.Runtime.InteropServices;

namespace EffNet.MLNet.Cli;

/// <summary>
/// The first Ctrl+C (SIGINT) cancels the running command, which stops at its next safe point
/// and writes nothing half-done; a second one ends the process at once.
/// </summary>
internal sealed class Interrupt : IDisposable
{
    public const string Message = "interrupted; nothing written (computed features stay in the cache)";

    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration _registration;

    public Interrupt() => _registration = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        _registration.Dispose();
        _source.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (_source.IsCancellationRequested) return; // the default action: terminate
        context.Cancel = true;
        _source.Cancel();
    }
}
