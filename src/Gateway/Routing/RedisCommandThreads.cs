using System.Collections.Concurrent;

namespace Gateway.Routing;

/// <summary>
/// Runs CSRedisCore's synchronous calls on a few dedicated threads. Its async API blocks thread-pool
/// threads internally; on a gateway pinned to one core the pool starts with one worker, so a blocked
/// heartbeat or HGET stalled every request until the pool injected a thread (~0.85 s stalls at p99.9 in
/// bench/, issue #3). The sync API does blocking socket I/O on the calling thread, which here is ours.
/// The queue is bounded: when Redis hangs, callers fail at once instead of piling up.
/// </summary>
internal sealed class RedisCommandThreads : IDisposable
{
    private readonly BlockingCollection<WorkItem> _queue;
    private readonly Thread[] _threads;

    public RedisCommandThreads(string name, int threads, int queueCapacity)
    {
        _queue = new BlockingCollection<WorkItem>(queueCapacity);
        _threads = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"{name}-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Queues <paramref name="call"/>; the task completes on the thread pool, never on a Redis thread.</summary>
    public Task<T> RunAsync<T>(Func<T> call)
    {
        var item = new WorkItem<T>(call);
        try
        {
            if (_queue.TryAdd(item))
            {
                return item.Task;
            }
        }
        catch (InvalidOperationException)
        {
            // Adding completed: shutting down.
        }

        return Task.FromException<T>(new RouteStoreUnavailableException("Redis command queue is full"));
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(2));
        }

        _queue.Dispose();
    }

    private void Run()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            item.Execute();
        }
    }

    private abstract class WorkItem
    {
        public abstract void Execute();
    }

    private sealed class WorkItem<T>(Func<T> call) : WorkItem
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _completion.Task;

        public override void Execute()
        {
            try
            {
                _completion.SetResult(call());
            }
            catch (Exception ex)
            {
                _completion.SetException(ex);
            }
        }
    }
}
