namespace EffNet.MLNet.AspNetCore;

/// <summary>Bytes of request bodies an endpoint holds at once, reserved before they are read and given back when the request ends.</summary>
internal sealed class BodyBudget(long capacity)
{
    private long _used;

    public long Capacity => capacity;

    /// <summary>Reserve <paramref name="bytes"/>; false (nothing reserved) when that would pass the capacity.</summary>
    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var used = Volatile.Read(ref _used);
            if (used + bytes > capacity) return false;
            if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used) return true;
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
