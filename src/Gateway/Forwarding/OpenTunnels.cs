using System.Collections.Concurrent;
using Gateway.Auth;
using Gateway.Health;
using Gateway.Routing;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Forwarding;

/// <summary>
/// The upgraded connections (editor WebSockets, terminals, dev-server sockets) open through the gateway,
/// by sid. When a sid's route changes they are checked against the store and closed if they lead to an
/// address that is no longer the workspace's, so a stopped workspace cannot be used through a lingering
/// connection and a moved one reconnects to its new pod. A re-announced but unchanged route
/// keeps its sessions: an editor must not be dropped for nothing.
/// </summary>
internal sealed partial class OpenTunnels : IRouteChangeObserver, IDisposable
{
    private static readonly TimeSpan GoingAwayWithin = TimeSpan.FromSeconds(1);

    // Upgrades are rare next to plain requests: a lock per sid is fine here, and never taken per request.
    private readonly ConcurrentDictionary<string, SidTunnels> _bySid = new(StringComparer.Ordinal);
    private readonly IRouteResolver _resolver;
    private readonly ILogger<OpenTunnels> _logger;
    private readonly ForwardingSettings _settings;
    private readonly ITimer _idleSweep;
    private readonly Lock _reviewsLock = new();
    private Task _reviews = Task.CompletedTask;
    private int _count;
    private volatile bool _stopping;

    public OpenTunnels(IRouteResolver resolver, ForwardingSettings settings, TimeProvider time, GatewayShutdown shutdown, ILogger<OpenTunnels> logger)
    {
        _resolver = resolver;
        _settings = settings;
        _logger = logger;
        _idleSweep = time.CreateTimer(_ => CloseIdle(), null, SweepPeriod(), SweepPeriod());

        // Before Kestrel stops and waits for in-flight requests (tunnels are in flight until they end), and after
        // the shutdown delay: a browser reconnects at once, and a load balancer should no longer send it here.
        shutdown.Closing.Register(() => _ = CloseAllGoingAwayAsync());
    }

    /// <summary>Upgraded connections open now, all sids.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Open tunnels per sid, for at most <paramref name="max"/> sids (metric cardinality stays bounded).</summary>
    public IEnumerable<KeyValuePair<string, int>> CountsBySid(int max) =>
        _bySid.Take(max).Select(pair => KeyValuePair.Create(pair.Key, pair.Value.Items.Count));

    /// <summary>
    /// Tracks <paramref name="context"/> until the returned lease is disposed (when forwarding ends); null once
    /// the gateway is stopping. A browser told 1001 reconnects at once (VS Code's first retry has no delay), and
    /// a tunnel opened after the shutdown's close would hold Kestrel's drain to its very end.
    /// </summary>
    /// <param name="port">The dev-server port it reaches (0: the editor).</param>
    /// <param name="admission">How it was let in: a later change of that port's sharing may end it.</param>
    public Lease? TryOpen(WorkspaceRoute route, HttpContext context, int port = 0, Admission admission = Admission.Owner)
    {
        var lease = TryOpen(route, context.Abort, IsWebSocket(context), port, admission);

        // How the transformer finds the tunnel when the workspace answers 101 (TunnelRelay takes over there).
        if (lease is { } open)
        {
            context.Features.Set(open.Tunnel);
        }

        return lease;
    }

    /// <summary>
    /// Tracks a tunnel that is not an HTTP request of Kestrel's (the fast path's WebSocket handshakes) until the
    /// returned lease is disposed; <paramref name="abort"/> cuts its client connection.
    /// </summary>
    public Lease? TryOpen(WorkspaceRoute route, Action abort, bool isWebSocket, int port = 0, Admission admission = Admission.Owner)
    {
        if (_stopping)
        {
            return null;
        }

        var tunnel = new Tunnel(abort, route.Sid, route.Address, isWebSocket)
        {
            Port = port,
            Admission = admission,
        };

        while (true)
        {
            var tunnels = _bySid.GetOrAdd(route.Sid, static _ => new SidTunnels());
            lock (tunnels)
            {
                // A set emptied and removed by a concurrent close is retired; use a fresh one.
                if (tunnels.Retired)
                {
                    continue;
                }

                // Read under the set's lock, which the shutdown takes after raising the flag: a tunnel added
                // after its snapshot of this set sees the flag, one added before is in the snapshot.
                if (_stopping)
                {
                    return null;
                }

                tunnels.Items.Add(tunnel);
            }

            Interlocked.Increment(ref _count);
            return new Lease(this, route.Sid, tunnels, tunnel);
        }
    }

    public void RoutesChanged(string? sid) => _ = ReviewAsync(sid);

    private static bool IsWebSocket(HttpContext context) =>
        ForwardingSettings.IsWebSocketOverHttp2(context)
        || string.Equals(context.Request.Headers.Upgrade, "websocket", StringComparison.OrdinalIgnoreCase);

    public void Dispose() => _idleSweep.Dispose();

    // A tunnel may outlive its idle timeout by up to a quarter of it: one sweep over all tunnels instead of
    // a timer re-armed on every message.
    private TimeSpan SweepPeriod() =>
        TimeSpan.FromMilliseconds(Math.Clamp(_settings.TunnelIdleTimeout.TotalMilliseconds / 4, 100, 30_000));

    /// <summary>Ends relayed tunnels through which nothing has passed for the idle timeout.</summary>
    internal void CloseIdle()
    {
        var limit = (long)_settings.TunnelIdleTimeout.TotalMilliseconds;
        var now = Environment.TickCount64;
        foreach (var (sid, tunnels) in _bySid)
        {
            var closed = AbortWhere(tunnels, tunnel => tunnel.Relaying && tunnel.IdleMilliseconds(now) > limit);
            if (closed > 0)
            {
                LogClosedIdle(sid, closed, _settings.TunnelIdleTimeout);
            }
        }

        _idleSweep.Change(SweepPeriod(), SweepPeriod());
    }

    /// <summary>Closes the tunnels of <paramref name="sid"/> (or of every sid) whose address is no longer the route.</summary>
    internal Task ReviewAsync(string? sid)
    {
        // One review after another: a flush after a Redis gap re-reads every sid with tunnels one HGET at
        // a time, instead of a burst that would fill the Redis queue and fail lookups.
        lock (_reviewsLock)
        {
            return _reviews = AfterAsync(_reviews, sid);
        }
    }

    private async Task AfterAsync(Task previous, string? sid)
    {
        await previous;
        try
        {
            IEnumerable<string> sids = sid is null ? [.. _bySid.Keys] : [sid];
            foreach (var candidate in sids)
            {
                if (_bySid.ContainsKey(candidate))
                {
                    await ReviewSidAsync(candidate);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogReviewFailed(ex, sid ?? "*");
        }
    }

    private async Task ReviewSidAsync(string sid)
    {
        var lookup = await _resolver.ResolveAsync(sid, CancellationToken.None);
        if (lookup.Status == RouteLookupStatus.StoreUnavailable)
        {
            // Our outage, not the workspace's: keep the sessions.
            LogKeptStoreUnavailable(sid);
            return;
        }

        var current = lookup.Route?.Address;
        if (!_bySid.TryGetValue(sid, out var tunnels))
        {
            return;
        }

        // Stopped, moved, or let in by a sharing level the port no longer has: a WebSocket is told which.
        var closing = new List<(Tunnel Tunnel, byte[] Frame)>();
        lock (tunnels)
        {
            foreach (var tunnel in tunnels.Items)
            {
                if (!string.Equals(tunnel.Address, current, StringComparison.Ordinal))
                {
                    closing.Add((tunnel, current is null ? WebSocketCloseFrame.WorkspaceStopped : WebSocketCloseFrame.WorkspaceMoved));
                }
                else if (!tunnel.Admission.StillAllowed(lookup.Shares.For(tunnel.Port)))
                {
                    closing.Add((tunnel, WebSocketCloseFrame.NoLongerShared));
                }
            }
        }

        if (closing.Count > 0)
        {
            LogClosed(sid, closing.Count, current ?? "none");
            // Not awaited: the next sid's review must not wait a second for this one's browsers.
            _ = Task.WhenAll(closing.Select(entry => CloseAsync(tunnels, entry.Tunnel, entry.Frame)));
        }
    }

    /// <summary>Shutdown: every WebSocket gets 1001 "going away" at a frame boundary; anything else is aborted.</summary>
    internal async Task CloseAllGoingAwayAsync()
    {
        _stopping = true;
        var all = new List<(SidTunnels Set, Tunnel Tunnel)>();
        foreach (var tunnels in _bySid.Values)
        {
            lock (tunnels)
            {
                all.AddRange(tunnels.Items.Select(tunnel => (tunnels, tunnel)));
            }
        }

        LogClosingForShutdown(all.Count);
        await Task.WhenAll(all.Select(entry => CloseAsync(entry.Set, entry.Tunnel, WebSocketCloseFrame.ShuttingDown)));
    }

    /// <summary>
    /// A relayed WebSocket gets <paramref name="frame"/> at its next frame boundary and a moment to read it;
    /// whatever is left (another upgrade, a frame stuck half-sent, a browser that does not answer) is cut.
    /// </summary>
    private static async Task CloseAsync(SidTunnels set, Tunnel tunnel, byte[] frame)
    {
        if (await tunnel.GoAwayAsync(GoingAwayWithin, frame))
        {
            await Task.WhenAny(tunnel.Ended, Task.Delay(GoingAwayWithin));
        }

        lock (set)
        {
            // Not once the request is over: Kestrel may already have reused the context.
            if (set.Items.Contains(tunnel))
            {
                tunnel.Abort();
            }
        }
    }

    private static int AbortWhere(SidTunnels tunnels, Func<Tunnel, bool> predicate)
    {
        var aborted = 0;
        lock (tunnels)
        {
            foreach (var tunnel in tunnels.Items)
            {
                if (predicate(tunnel))
                {
                    // Under the lock: a lease leaving concurrently cannot hand its context back to Kestrel
                    // for reuse while we abort it.
                    tunnel.Abort();
                    aborted++;
                }
            }
        }

        return aborted;
    }

    private void Close(string sid, SidTunnels tunnels, Tunnel tunnel)
    {
        tunnel.MarkEnded();
        lock (tunnels)
        {
            tunnels.Items.Remove(tunnel);
            if (tunnels.Items.Count == 0)
            {
                tunnels.Retired = true;
                _bySid.TryRemove(KeyValuePair.Create(sid, tunnels));
            }
        }

        Interlocked.Decrement(ref _count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed {Count} tunnel(s) of workspace {Sid}: its route is now {Address}")]
    private partial void LogClosed(string sid, int count, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed {Count} tunnel(s) of workspace {Sid}: idle for {IdleTimeout}")]
    private partial void LogClosedIdle(string sid, int count, TimeSpan idleTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kept the tunnels of workspace {Sid}: the route store did not answer")]
    private partial void LogKeptStoreUnavailable(string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: closing {Count} tunnel(s) with 1001 going away")]
    private partial void LogClosingForShutdown(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reviewing tunnels for {Sid} failed")]
    private partial void LogReviewFailed(Exception exception, string sid);

    internal readonly struct Lease(OpenTunnels owner, string sid, SidTunnels tunnels, Tunnel tunnel) : IDisposable
    {
        public Tunnel Tunnel => tunnel;

        public void Dispose() => owner.Close(sid, tunnels, tunnel);
    }

    internal sealed class SidTunnels
    {
        public List<Tunnel> Items { get; } = [];

        public bool Retired { get; set; }
    }

    internal sealed class Tunnel(Action abort, string sid, string address, bool isWebSocket)
    {
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile Stream? _workspace;
        private long _lastActivity = Environment.TickCount64;
        private volatile byte[]? _closeFrame;
        private volatile bool _goingAwaySent;
        private volatile bool _parked;

        /// <summary>Cuts the client's connection (the request's, or the whole connection on the fast path).</summary>
        public void Abort() => abort();

        public string Sid { get; } = sid;

        public string Address { get; } = address;

        public int Port { get; init; }

        public Admission Admission { get; init; }

        public bool IsWebSocket { get; } = isWebSocket;

        /// <summary>Completes when forwarding of this request is over.</summary>
        public Task Ended => _ended.Task;

        /// <summary>The relay waits for the workspace with no frame half-sent to the browser.</summary>
        public bool Parked
        {
            get => _parked;
            set => _parked = value;
        }

        /// <summary>Being closed: the relay ends at the next frame boundary with <see cref="CloseFrame"/>.</summary>
        public bool GoingAway => _closeFrame is not null;

        /// <summary>What the relay sends the browser last, once <see cref="GoingAway"/>.</summary>
        public byte[] CloseFrame => _closeFrame ?? WebSocketCloseFrame.ShuttingDown;

        /// <summary>Milliseconds since a byte last went through (Environment.TickCount64 clock).</summary>
        public long IdleMilliseconds(long now) => now - Volatile.Read(ref _lastActivity);

        public void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

        /// <summary>The workspace switched protocols and the relay carries the bytes.</summary>
        public bool Relaying => _workspace is not null;

        public void Started(Stream workspace)
        {
            Touch();
            _workspace = workspace;
        }

        public void GoingAwaySent() => _goingAwaySent = true;

        /// <summary>
        /// Asks the relay for <paramref name="closeFrame"/> at the next frame boundary. True once it is sent;
        /// false when the tunnel is not a relayed WebSocket or no boundary came within <paramref name="within"/>
        /// (a frame stuck half-sent).
        /// </summary>
        public async Task<bool> GoAwayAsync(TimeSpan within, byte[] closeFrame)
        {
            if (!IsWebSocket || _workspace is not { } workspace)
            {
                return false;
            }

            _closeFrame = closeFrame;
            var deadline = Task.Delay(within);
            // Polled rather than awaited: shutdown is rare, and a flag costs each tunnel less than a task would.
            while (!_goingAwaySent && !deadline.IsCompleted && !_ended.Task.IsCompleted)
            {
                // A parked relay would wait for the workspace forever: ending the workspace's side wakes it,
                // and it is cut anyway.
                if (Parked)
                {
                    workspace.Dispose();
                }

                await Task.WhenAny(_ended.Task, Task.Delay(20));
            }

            return _goingAwaySent;
        }

        /// <summary>Returns once the tunnel is <see cref="GoingAway"/>, or after <paramref name="within"/>.</summary>
        public async Task WaitForGoingAwayAsync(TimeSpan within)
        {
            // Polled, as in GoAwayAsync: only a tunnel whose workspace vanished waits here, and only once.
            var deadline = Environment.TickCount64 + (long)within.TotalMilliseconds;
            while (!GoingAway && Environment.TickCount64 < deadline)
            {
                await Task.Delay(20);
            }
        }

        public void MarkEnded() => _ended.TrySetResult();
    }
}
