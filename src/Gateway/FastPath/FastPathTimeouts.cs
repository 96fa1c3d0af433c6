using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Gateway.FastPath;

/// <summary>
/// Kestrel's timeouts for the connections the fast path serves, which Kestrel only enforces while its own HTTP
/// layer reads them: a client idle between requests longer than Kestrel's keep-alive timeout is let go, and an
/// exchange with no byte moving for <c>Gateway:Forwarding:HttpActivityTimeout</c> (a workspace that does not
/// answer, a client that does not read) is ended, as YARP's activity timeout ends its own. One timer for all,
/// once a second, as Kestrel's heartbeat checks its connections; a request only writes a timestamp.
/// </summary>
internal sealed class FastPathTimeouts : IDisposable
{
    private readonly ConcurrentDictionary<FastPathConnection, byte> _connections = new();
    private readonly TimeProvider _time;
    private readonly ITimer _heartbeat;

    public FastPathTimeouts(TimeProvider time, TimeSpan keepAlive, TimeSpan requestHeaders, TimeSpan activity)
    {
        _time = time;
        KeepAlive = keepAlive;
        RequestHeaders = requestHeaders;
        Activity = activity;
        _heartbeat = time.CreateTimer(_ => Beat(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public TimeSpan KeepAlive { get; }

    /// <summary>Kestrel's time for a whole request head from its first byte.</summary>
    public TimeSpan RequestHeaders { get; }

    public TimeSpan Activity { get; }

    internal TimeProvider Time => _time;

    /// <summary>Watches <paramref name="connection"/> until the returned watch is disposed.</summary>
    public FastPathConnection Watch(ConnectionContext connection)
    {
        var watched = new FastPathConnection(connection, this);
        _connections.TryAdd(watched, 0);
        return watched;
    }

    internal void Forget(FastPathConnection connection) => _connections.TryRemove(connection, out _);

    public void Dispose() => _heartbeat.Dispose();

    private void Beat()
    {
        var now = _time.GetTimestamp();
        foreach (var connection in _connections.Keys)
        {
            connection.Check(now);
        }
    }
}

/// <summary>One client connection the fast path serves: where it is in its exchange, and since when.</summary>
internal sealed class FastPathConnection : IDisposable
{
    private const int AwaitingRequest = 0;
    private const int AwaitingAnswer = 1;
    private const int Relaying = 2;
    private const int WithKestrel = 3;
    private const int Tunnel = 4;
    private const int ReadingHead = 5;

    private readonly ConnectionContext _connection;
    private readonly FastPathTimeouts _owner;
    private readonly CancellationTokenRegistration _closeRequested;
    private long _since;
    private int _state;
    private int _timedOut;
    private int _closing;
    private Socket? _workspace;

    public FastPathConnection(ConnectionContext connection, FastPathTimeouts owner)
    {
        _connection = connection;
        _owner = owner;
        _since = owner.Time.GetTimestamp();

        // Kestrel asks every connection to close when the gateway stops: one waiting for a request ends now.
        _closeRequested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
            .Register(static state => ((FastPathConnection)state!).RequestClose(), this) ?? default;
    }

    /// <summary>The workspace or the client stopped moving bytes for longer than the activity timeout, in this exchange.</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut) != 0;

    /// <summary>The gateway is stopping: no further request is read from this connection.</summary>
    public bool Closing => Volatile.Read(ref _closing) != 0;

    public void WaitForRequest() => Enter(AwaitingRequest);

    /// <summary>Part of a head came; the rest must within Kestrel's request-headers timeout, or Kestrel takes over.</summary>
    public void ReadHead() => Enter(ReadingHead);

    /// <summary>A request went to <paramref name="workspace"/>; until its answer starts, a timeout closes that socket.</summary>
    public void WaitForAnswer(Socket workspace)
    {
        Volatile.Write(ref _timedOut, 0);
        Volatile.Write(ref _workspace, workspace);
        Enter(AwaitingAnswer);
    }

    public void Relay() => Enter(Relaying);

    /// <summary>A WebSocket relayed to the end of the connection, whose idle timeout the tunnels' sweep enforces.</summary>
    public void InTunnel() => Enter(Tunnel);

    /// <summary>Kestrel and YARP serve the request behind the fast path, with timeouts of their own.</summary>
    public void ServedByKestrel() => Enter(WithKestrel);

    /// <summary>Bytes moved: the activity timeout starts again.</summary>
    public void Progress() => Volatile.Write(ref _since, _owner.Time.GetTimestamp());

    /// <summary>
    /// The workspace's socket back from the watch once the exchange is over; false when a timeout closed it
    /// meanwhile (it must not be pooled).
    /// </summary>
    public bool Release(Socket workspace) => Interlocked.CompareExchange(ref _workspace, null, workspace) == workspace;

    internal void Check(long now)
    {
        var elapsed = _owner.Time.GetElapsedTime(Volatile.Read(ref _since), now);
        switch (Volatile.Read(ref _state))
        {
            case AwaitingRequest when elapsed > _owner.KeepAlive:
            case ReadingHead when elapsed > _owner.RequestHeaders:
                _connection.Transport.Input.CancelPendingRead();
                break;
            case AwaitingAnswer when elapsed > _owner.Activity:
                Volatile.Write(ref _timedOut, 1);
                Interlocked.Exchange(ref _workspace, null)?.Dispose();
                break;
            case Relaying when elapsed > _owner.Activity:
                Volatile.Write(ref _timedOut, 1);
                Interlocked.Exchange(ref _workspace, null)?.Dispose();
                _connection.Abort(new ConnectionAbortedException("No byte moved within the activity timeout."));
                break;
        }
    }

    public void Dispose()
    {
        _closeRequested.Dispose();
        _owner.Forget(this);
    }

    private void Enter(int state)
    {
        Volatile.Write(ref _since, _owner.Time.GetTimestamp());
        Volatile.Write(ref _state, state);
    }

    private void RequestClose()
    {
        Volatile.Write(ref _closing, 1);
        if (Volatile.Read(ref _state) == AwaitingRequest)
        {
            _connection.Transport.Input.CancelPendingRead();
        }
    }
}
