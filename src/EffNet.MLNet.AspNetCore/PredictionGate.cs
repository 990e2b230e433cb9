namespace EffNet.MLNet.AspNetCore;

/// <summary>
/// At most a fixed number of predictions at once and a bounded queue of requests waiting for one:
/// a request that finds the queue full, or waits past its time, is turned away (503) instead of
/// holding its upload and a thread while the pile grows.
/// </summary>
internal sealed class PredictionGate(int concurrent, int queued)
{
    private readonly SemaphoreSlim _slots = new(concurrent, concurrent);
    private int _waiting;

    /// <summary>A slot, released by disposing it; null when the queue is full or <paramref name="wait"/> passed.</summary>
    public async Task<IDisposable?> EnterAsync(TimeSpan wait, CancellationToken cancel)
    {
        if (_slots.Wait(0)) return new Slot(_slots);
        if (Interlocked.Increment(ref _waiting) > queued)
        {
            Interlocked.Decrement(ref _waiting);
            return null;
        }
        try { return await _slots.WaitAsync(wait, cancel) ? new Slot(_slots) : null; }
        finally { Interlocked.Decrement(ref _waiting); }
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}
