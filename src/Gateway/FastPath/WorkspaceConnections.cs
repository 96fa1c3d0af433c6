using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Contracts.Routing;

namespace Gateway.FastPath;

/// <summary>
/// The fast path's connections to workspaces: raw sockets kept between requests per route address
/// (<c>host:port</c> or <c>unix:&lt;path&gt;</c>), so a moved workspace never gets a connection made for its old
/// address. A connection idle longer than <c>idleTimeout</c>, or one the workspace closed (or wrote to unasked)
/// while idle, is never handed out again: one idle longer than <c>checkAfter</c> is checked with a zero-timeout
/// poll, as SocketsHttpHandler checks its pooled connections before reuse. One returned more recently is handed out
/// unchecked, which saves a system call per request under load: a workspace can close it only in that moment, and
/// the caller sends its request again on a new connection when a reused one fails before answering, as
/// SocketsHttpHandler does. At most <c>maxIdlePerAddress</c> wait per address; the rest are closed when returned.
/// </summary>
internal sealed class WorkspaceConnections : IDisposable
{
    private readonly ConcurrentDictionary<string, Destination> _destinations = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _checkAfter;
    private readonly int _maxIdlePerAddress;
    private readonly ITimer _sweeper;
    private int _open;

    public WorkspaceConnections(TimeProvider time, TimeSpan connectTimeout, TimeSpan idleTimeout, int maxIdlePerAddress, TimeSpan checkAfter)
    {
        _time = time;
        _connectTimeout = connectTimeout;
        _idleTimeout = idleTimeout;
        _checkAfter = checkAfter;
        _maxIdlePerAddress = maxIdlePerAddress;
        _sweeper = time.CreateTimer(_ => Sweep(), null, idleTimeout, idleTimeout);
    }

    /// <summary>Connections open now, idle or in use: what a leak would grow.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>A connection to <paramref name="address"/>: an idle one that is still good, or a new one.</summary>
    /// <exception cref="SocketException">The workspace could not be reached.</exception>
    /// <exception cref="OperationCanceledException">Not connected within the connect timeout, or cancelled.</exception>
    public ValueTask<Socket> RentAsync(string address, CancellationToken cancellationToken) =>
        TryRentIdle(address, out var idle) ? ValueTask.FromResult(idle) : ConnectAsync(address, cancellationToken);

    /// <summary>An idle connection to <paramref name="address"/> that is still good, if one waits.</summary>
    public bool TryRentIdle(string address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Socket? socket)
    {
        var destination = _destinations.GetOrAdd(address, static a => new Destination(EndPointOf(a)));
        var now = _time.GetTimestamp();
        while (destination.Idle.TryPop(out var idle))
        {
            Interlocked.Decrement(ref destination.IdleCount);
            var idleFor = _time.GetElapsedTime(idle.ReturnedAt, now);
            if (idleFor < _idleTimeout && (idleFor < _checkAfter || !ClosedOrTalking(idle.Socket)))
            {
                socket = idle.Socket;
                return true;
            }

            Close(idle.Socket);
        }

        socket = null;
        return false;
    }

    /// <summary>A new connection to <paramref name="address"/>.</summary>
    /// <exception cref="SocketException">The workspace could not be reached.</exception>
    /// <exception cref="OperationCanceledException">Not connected within the connect timeout, or cancelled.</exception>
    public async ValueTask<Socket> ConnectAsync(string address, CancellationToken cancellationToken)
    {
        var destination = _destinations.GetOrAdd(address, static a => new Destination(EndPointOf(a)));
        var socket = destination.EndPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Interlocked.Increment(ref _open);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_connectTimeout);
        try
        {
            await socket.ConnectAsync(destination.EndPoint, timeout.Token);
            return socket;
        }
        catch
        {
            Close(socket);
            throw;
        }
    }

    /// <summary>Keeps <paramref name="socket"/> for the next request to <paramref name="address"/>, after a whole exchange.</summary>
    public void Return(string address, Socket socket)
    {
        var destination = _destinations.GetOrAdd(address, static a => new Destination(EndPointOf(a)));
        if (Interlocked.Increment(ref destination.IdleCount) > _maxIdlePerAddress)
        {
            Interlocked.Decrement(ref destination.IdleCount);
            Close(socket);
            return;
        }

        destination.Idle.Push(new IdleConnection(socket, _time.GetTimestamp()));

        // The sweep let go of this destination meanwhile: nothing would ever hand out or close what waits there.
        if (Volatile.Read(ref destination.Forgotten))
        {
            Drain(destination);
        }
    }

    /// <summary>Ends a connection that cannot be reused (a broken or unfinished exchange).</summary>
    public void Close(Socket socket)
    {
        socket.Dispose();
        Interlocked.Decrement(ref _open);
    }

    public void Dispose()
    {
        _sweeper.Dispose();
        foreach (var destination in _destinations.Values)
        {
            Drain(destination);
        }
    }

    // Closes what has idled too long, so a quiet gateway holds no sockets the workspaces keep open for it.
    private void Sweep()
    {
        var now = _time.GetTimestamp();
        foreach (var (address, destination) in _destinations)
        {
            var kept = new List<IdleConnection>();
            while (destination.Idle.TryPop(out var idle))
            {
                if (_time.GetElapsedTime(idle.ReturnedAt, now) < _idleTimeout && !ClosedOrTalking(idle.Socket))
                {
                    kept.Add(idle);
                }
                else
                {
                    Interlocked.Decrement(ref destination.IdleCount);
                    Close(idle.Socket);
                }
            }

            for (var i = kept.Count - 1; i >= 0; i--)
            {
                destination.Idle.Push(kept[i]);
            }

            // An address no request used for a whole idle period (a workspace moved or stopped) is let go.
            if (kept.Count == 0 && _destinations.TryRemove(new KeyValuePair<string, Destination>(address, destination)))
            {
                Volatile.Write(ref destination.Forgotten, true);
                Drain(destination);
            }
        }
    }

    private void Drain(Destination destination)
    {
        while (destination.Idle.TryPop(out var idle))
        {
            Interlocked.Decrement(ref destination.IdleCount);
            Close(idle.Socket);
        }
    }

    // An idle HTTP/1.1 connection has nothing to read: readable means the workspace closed it or sent bytes no
    // request asked for, and either way the next answer on it could not be trusted.
    private static bool ClosedOrTalking(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    private static EndPoint EndPointOf(string address)
    {
        if (UnixSocketRoute.TryParse(address, out var socketPath))
        {
            return new UnixDomainSocketEndPoint(socketPath);
        }

        // Routes are checked when they enter the cache (WorkspaceRoute.TryParse): host:port, [v6]:port or ipv4:port.
        var colon = address.LastIndexOf(':');
        var host = address[..colon].Trim('[', ']');
        var port = int.Parse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture);
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
    }

    private readonly record struct IdleConnection(Socket Socket, long ReturnedAt);

    private sealed class Destination(EndPoint endPoint)
    {
        public EndPoint EndPoint { get; } = endPoint;

        public ConcurrentStack<IdleConnection> Idle { get; } = new();

        // Approximate under races (a push and its count are two steps); it bounds, it does not account.
        public int IdleCount;

        // Set once the sweep removed it from the table: a late return drains it instead of leaving a socket there.
        public bool Forgotten;
    }
}
