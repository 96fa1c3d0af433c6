namespace ServiceDefaults.Threading;

/// <summary>
/// The thread pool creates threads up to its minimum on demand, and beyond it only after an injection delay
/// of about half a second per thread. Code that blocks pool threads (it should not, but libraries do) stalls
/// everything queued behind it for that long unless the minimum leaves room.
/// </summary>
public static class ThreadPoolMinimum
{
    /// <summary>Raises both minimums (workers and I/O completions) to at least <paramref name="threads"/>; never lowers them.</summary>
    public static void RaiseTo(int threads)
    {
        ThreadPool.GetMinThreads(out var workers, out var completions);
        ThreadPool.SetMinThreads(Math.Max(workers, threads), Math.Max(completions, threads));
    }
}
