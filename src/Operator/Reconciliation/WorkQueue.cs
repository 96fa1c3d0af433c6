using System.Threading.Channels;

namespace Operator.Reconciliation;

/// <summary>
/// Keys waiting to be reconciled, with client-go's guarantees: a key queued many times is reconciled
/// once; a key is never handed to two workers at once (a change that arrives meanwhile queues it again
/// when the first worker is done); delayed requeues; per-key exponential backoff after failures.
/// </summary>
internal sealed class WorkQueue
{
    private readonly object _gate = new();
    private readonly HashSet<string> _dirty = [];
    private readonly HashSet<string> _processing = [];
    private readonly Dictionary<string, int> _failures = [];
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>();
    private readonly TimeProvider _time;
    private readonly TimeSpan _initialBackoff;
    private readonly TimeSpan _maxBackoff;

    public WorkQueue(TimeProvider time, TimeSpan initialBackoff, TimeSpan maxBackoff)
    {
        _time = time;
        _initialBackoff = initialBackoff;
        _maxBackoff = maxBackoff;
    }

    public void Add(string key)
    {
        lock (_gate)
        {
            if (!_dirty.Add(key) || _processing.Contains(key))
            {
                return;
            }
        }

        _ready.Writer.TryWrite(key);
    }

    public void AddAfter(string key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }

        ITimer? timer = null;
        timer = _time.CreateTimer(
            _ =>
            {
                Add(key);
                timer?.Dispose();
            },
            null,
            delay,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Requeues after a failure; the delay doubles with each consecutive failure of the key.</summary>
    public TimeSpan AddWithBackoff(string key)
    {
        int failures;
        lock (_gate)
        {
            _failures[key] = failures = _failures.GetValueOrDefault(key) + 1;
        }

        var delay = TimeSpan.FromTicks(Math.Min(_maxBackoff.Ticks, _initialBackoff.Ticks * (1L << Math.Min(failures - 1, 20))));
        AddAfter(key, delay);
        return delay;
    }

    /// <summary>The key succeeded: its next failure starts from the initial backoff again.</summary>
    public void Forget(string key)
    {
        lock (_gate)
        {
            _failures.Remove(key);
        }
    }

    public async ValueTask<string> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var key = await _ready.Reader.ReadAsync(cancellationToken);
            lock (_gate)
            {
                // Stale entry: the key was taken earlier through another write of the same key.
                if (_dirty.Remove(key))
                {
                    _processing.Add(key);
                    return key;
                }
            }
        }
    }

    public void Done(string key)
    {
        bool again;
        lock (_gate)
        {
            _processing.Remove(key);
            again = _dirty.Contains(key);
        }

        if (again)
        {
            _ready.Writer.TryWrite(key);
        }
    }
}
