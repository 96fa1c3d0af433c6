namespace Gateway.Diagnostics;

/// <summary>
/// How many lines one kind of per-request failure may log per interval. When a workspace or Redis goes
/// down, every request fails the same way, thousands per second; the first few are logged, the rest are
/// counted and reported with the next line that gets through: a failure that hits every request must not flood the log. Lock-free; a race at a window
/// boundary may let one extra line through, which is harmless.
/// </summary>
internal sealed class LogBudget(TimeProvider time, int linesPerInterval, TimeSpan interval)
{
    private readonly long _intervalTicks = (long)(interval.TotalSeconds * time.TimestampFrequency);
    private long _windowStart = time.GetTimestamp();
    private int _used;
    private long _suppressed;

    /// <summary>One line per second, five at a time: enough to see the first failures, not a flood.</summary>
    public static LogBudget PerSecond(TimeProvider time) => new(time, linesPerInterval: 5, TimeSpan.FromSeconds(1));

    /// <summary>True when a line may be written; <paramref name="suppressed"/> is how many were dropped before it.</summary>
    public bool TryTake(out long suppressed)
    {
        var now = time.GetTimestamp();
        var start = Volatile.Read(ref _windowStart);
        if (now - start >= _intervalTicks && Interlocked.CompareExchange(ref _windowStart, now, start) == start)
        {
            Volatile.Write(ref _used, 0);
        }

        if (Interlocked.Increment(ref _used) <= linesPerInterval)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}
