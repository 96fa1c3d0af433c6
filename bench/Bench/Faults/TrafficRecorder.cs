using System.Diagnostics;
using HdrHistogram;

namespace Bench.Faults;

/// <summary>How one HTTP request ended, as a user would count it.</summary>
internal enum RequestOutcome
{
    /// <summary>Answered 2xx at the first attempt (and an upload stored whole).</summary>
    Succeeded,

    /// <summary>A clear retryable answer (502/503/504) or a refused connection of a GET first, then 2xx on a retry.</summary>
    Retried,

    /// <summary>Still a clear retryable answer after every retry: the user is told to try again, nothing was lost.</summary>
    RetryableAnswer,

    /// <summary>A reset, a timeout or a wrong answer: what a user cannot act on.</summary>
    Failed,
}

/// <summary>What happened to an editor's WebSocket that ended without the client closing it.</summary>
/// <param name="AtSeconds">When the client noticed, since the traffic began.</param>
/// <param name="Replica">The replica it was on (HAProxy's X-Served-By).</param>
/// <param name="How">"1001", "1011" ... (a close frame), "reset" (the connection ended without one) or "hung" (an echo that never came).</param>
/// <param name="ReconnectedMilliseconds">From noticing to the next socket open; null if it never reopened.</param>
/// <param name="ReconnectedTo">The replica of the next socket.</param>
internal sealed record Disconnect(double AtSeconds, string Replica, string How, double? ReconnectedMilliseconds, string? ReconnectedTo);

/// <summary>
/// Everything the editor-like clients saw, in two views: per phase (the scenario names them: "steady",
/// "kill -9 g1", "minute 3" ...) with per-replica WebSocket latency, and per second for the chart. Phases are
/// swapped whole (<see cref="BeginPhase"/>), so a record goes to exactly one.
/// </summary>
internal sealed class TrafficRecorder
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly List<PhaseRecord> _phases = [];
    private readonly List<SecondRecord> _seconds = [];
    private readonly List<Disconnect> _disconnects = [];
    private PhaseRecord _current;

    public TrafficRecorder()
    {
        _current = new PhaseRecord("start", 0);
        _phases.Add(_current);
    }

    public double Elapsed => Stopwatch.GetElapsedTime(_started).TotalSeconds;

    public IReadOnlyList<PhaseRecord> Phases
    {
        get
        {
            lock (_phases)
            {
                return [.. _phases];
            }
        }
    }

    public IReadOnlyList<Disconnect> Disconnects
    {
        get
        {
            lock (_disconnects)
            {
                return [.. _disconnects];
            }
        }
    }

    public IReadOnlyList<SecondRecord> Seconds
    {
        get
        {
            lock (_seconds)
            {
                return [.. _seconds];
            }
        }
    }

    public PhaseRecord BeginPhase(string name)
    {
        var phase = new PhaseRecord(name, Elapsed);
        lock (_phases)
        {
            Volatile.Read(ref _current).EndSeconds = phase.StartSeconds;
            _phases.Add(phase);
            Volatile.Write(ref _current, phase);
        }

        return phase;
    }

    public void EndPhases()
    {
        lock (_phases)
        {
            _current.EndSeconds = Elapsed;
        }
    }

    public void WebSocketEcho(string replica, long microseconds)
    {
        Volatile.Read(ref _current).WebSocketEcho(replica, microseconds);
        Second().WebSocket.Record(microseconds);
    }

    /// <summary>An echo that came back different from what was sent.</summary>
    public void EchoCorrupted() => Volatile.Read(ref _current).Corrupt();

    public void WebSocketOpened() => Interlocked.Increment(ref Volatile.Read(ref _current).WebSocketsOpened);

    public void WebSocketOpenRefused() => Interlocked.Increment(ref Volatile.Read(ref _current).WebSocketOpensRefused);

    public void Disconnected(Disconnect disconnect)
    {
        Volatile.Read(ref _current).Disconnected(disconnect);
        lock (_disconnects)
        {
            _disconnects.Add(disconnect);
        }
    }

    public void Request(RequestOutcome outcome, long microseconds, bool corrupted = false)
    {
        Volatile.Read(ref _current).Request(outcome, microseconds, corrupted);
        if (outcome is RequestOutcome.Succeeded or RequestOutcome.Retried)
        {
            Second().Http.Record(microseconds);
        }
    }

    /// <summary>A sample of the servers' state, attached to the current second.</summary>
    public void Sample(ServerSample sample) => Second().Sample = sample;

    private SecondRecord Second()
    {
        var second = (int)Elapsed;
        lock (_seconds)
        {
            while (_seconds.Count <= second)
            {
                _seconds.Add(new SecondRecord(_seconds.Count));
            }

            return _seconds[second];
        }
    }
}

/// <summary>The gateways' handles at one moment, summed over the replicas alive then.</summary>
internal sealed record ServerSample(double AtSeconds, long ResidentBytes, int Threads, int Descriptors, int WorkspaceConnections, int Replicas);

/// <summary>One second of traffic: the chart's point.</summary>
internal sealed class SecondRecord(int second)
{
    public int Second { get; } = second;

    public ConcurrentHistogram WebSocket { get; } = new();

    public ConcurrentHistogram Http { get; } = new();

    public ServerSample? Sample { get; set; }
}

/// <summary>A histogram several client tasks record into (the bench client's own; not a hot path).</summary>
internal sealed class ConcurrentHistogram
{
    private readonly LongHistogram _histogram = new(60_000_000, 2);

    public long Count
    {
        get
        {
            lock (_histogram)
            {
                return _histogram.TotalCount;
            }
        }
    }

    public void Record(long microseconds)
    {
        lock (_histogram)
        {
            _histogram.RecordValue(Math.Clamp(microseconds, 1, 60_000_000));
        }
    }

    /// <summary>Milliseconds at a percentile; 0 when empty.</summary>
    public double Percentile(double percentile)
    {
        lock (_histogram)
        {
            return _histogram.TotalCount == 0 ? 0 : _histogram.GetValueAtPercentile(percentile) / 1000.0;
        }
    }

    public void AddTo(LongHistogram target)
    {
        lock (_histogram)
        {
            target.Add(_histogram);
        }
    }
}

/// <summary>One phase's counts; the scenario reads them when the phase is over.</summary>
internal sealed class PhaseRecord(string name, double startSeconds)
{
    private readonly Dictionary<string, ConcurrentHistogram> _echoByReplica = new(StringComparer.Ordinal);
    private readonly List<Disconnect> _disconnects = [];
    private readonly long[] _outcomes = new long[4];
    private long _corrupted;

    public string Name { get; } = name;

    public double StartSeconds { get; } = startSeconds;

    public double EndSeconds { get; set; }

    public ConcurrentHistogram Http { get; } = new();

    public long WebSocketsOpened;

    public long WebSocketOpensRefused;

    public long Outcome(RequestOutcome outcome) => Interlocked.Read(ref _outcomes[(int)outcome]);

    /// <summary>Answered 2xx with a body that is not what was sent (an upload stored short, a wrong echo).</summary>
    public long Corrupted => Interlocked.Read(ref _corrupted);

    public IReadOnlyList<Disconnect> Disconnects
    {
        get
        {
            lock (_disconnects)
            {
                return [.. _disconnects];
            }
        }
    }

    public void WebSocketEcho(string replica, long microseconds)
    {
        ConcurrentHistogram histogram;
        lock (_echoByReplica)
        {
            if (!_echoByReplica.TryGetValue(replica, out histogram!))
            {
                _echoByReplica[replica] = histogram = new ConcurrentHistogram();
            }
        }

        histogram.Record(microseconds);
    }

    public void Disconnected(Disconnect disconnect)
    {
        lock (_disconnects)
        {
            _disconnects.Add(disconnect);
        }
    }

    public void Corrupt() => Interlocked.Increment(ref _corrupted);

    public void Request(RequestOutcome outcome, long microseconds, bool corrupted)
    {
        Interlocked.Increment(ref _outcomes[(int)outcome]);
        if (corrupted)
        {
            Interlocked.Increment(ref _corrupted);
        }

        if (outcome is RequestOutcome.Succeeded or RequestOutcome.Retried)
        {
            Http.Record(microseconds);
        }
    }

    /// <summary>WebSocket echo latency of the sockets on the given replicas (all when null).</summary>
    public LongHistogram Echo(Func<string, bool>? replicas = null)
    {
        var merged = new LongHistogram(60_000_000, 2);
        lock (_echoByReplica)
        {
            foreach (var (replica, histogram) in _echoByReplica)
            {
                if (replicas is null || replicas(replica))
                {
                    histogram.AddTo(merged);
                }
            }
        }

        return merged;
    }
}
