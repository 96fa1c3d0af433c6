using System.Collections.Concurrent;
using Gateway.Routing;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Forwarding;

/// <summary>
/// The upgraded connections (editor WebSockets, terminals, dev-server sockets) open through the gateway,
/// by sid. When a sid's route changes they are checked against the store and closed if they lead to an
/// address that is no longer the workspace's, so a stopped workspace cannot be used through a lingering
/// connection and a moved one reconnects to its new pod (issue #4). A re-announced but unchanged route
/// keeps its sessions: an editor must not be dropped for nothing.
/// </summary>
internal sealed partial class OpenTunnels : IRouteChangeObserver
{
    private static readonly TimeSpan GoingAwayWithin = TimeSpan.FromSeconds(1);

    // Upgrades are rare next to plain requests: a lock per sid is fine here, and never taken per request.
    private readonly ConcurrentDictionary<string, SidTunnels> _bySid = new(StringComparer.Ordinal);
    private readonly IRouteResolver _resolver;
    private readonly ILogger<OpenTunnels> _logger;
    private readonly Lock _reviewsLock = new();
    private Task _reviews = Task.CompletedTask;
    private int _count;

    public OpenTunnels(IRouteResolver resolver, IHostApplicationLifetime lifetime, ILogger<OpenTunnels> logger)
    {
        _resolver = resolver;
        _logger = logger;

        // Before Kestrel stops and waits for in-flight requests: tunnels are in flight until they end.
        lifetime.ApplicationStopping.Register(() => _ = CloseAllGoingAwayAsync());
    }

    /// <summary>Upgraded connections open now, all sids.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Open tunnels per sid, for at most <paramref name="max"/> sids (metric cardinality stays bounded).</summary>
    public IEnumerable<KeyValuePair<string, int>> CountsBySid(int max) =>
        _bySid.Take(max).Select(pair => KeyValuePair.Create(pair.Key, pair.Value.Items.Count));

    /// <summary>Tracks <paramref name="context"/> until the returned lease is disposed (when forwarding ends).</summary>
    public Lease Open(WorkspaceRoute route, HttpContext context, IHttpUpgradeFeature upgrade)
    {
        var tunnel = new Tunnel(context, route.Address);
        if (string.Equals(context.Request.Headers.Upgrade, "websocket", StringComparison.OrdinalIgnoreCase))
        {
            context.Features.Set<IHttpUpgradeFeature>(new ClosableUpgradeFeature(upgrade, tunnel));
        }

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

                tunnels.Items.Add(tunnel);
            }

            Interlocked.Increment(ref _count);
            return new Lease(this, route.Sid, tunnels, tunnel);
        }
    }

    public void RoutesChanged(string? sid) => _ = ReviewAsync(sid);

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

        var closed = 0;
        lock (tunnels)
        {
            foreach (var tunnel in tunnels.Items)
            {
                if (!string.Equals(tunnel.Address, current, StringComparison.Ordinal))
                {
                    // Under the lock: a lease leaving concurrently cannot hand its context back to Kestrel
                    // for reuse while we abort it.
                    tunnel.Context.Abort();
                    closed++;
                }
            }
        }

        if (closed > 0)
        {
            LogClosed(sid, closed, current ?? "none");
        }
    }

    /// <summary>Shutdown: every WebSocket gets 1001 "going away" at a frame boundary; anything else is aborted.</summary>
    internal async Task CloseAllGoingAwayAsync()
    {
        var all = new List<(SidTunnels Set, Tunnel Tunnel)>();
        foreach (var tunnels in _bySid.Values)
        {
            lock (tunnels)
            {
                all.AddRange(tunnels.Items.Select(tunnel => (tunnels, tunnel)));
            }
        }

        LogClosingForShutdown(all.Count);
        await Task.WhenAll(all.Select(async entry =>
        {
            // The browser's side reads EOF after the close frame, but YARP keeps the tunnel until the
            // workspace's side ends too; give the browser a moment to read the frame, then cut both.
            if (entry.Tunnel.WebSocket is { } socket && await socket.CloseGoingAwayAsync(GoingAwayWithin))
            {
                await Task.WhenAny(entry.Tunnel.Ended, Task.Delay(GoingAwayWithin));
            }

            lock (entry.Set)
            {
                // Not once the request is over: Kestrel may already have reused the context.
                if (entry.Set.Items.Contains(entry.Tunnel))
                {
                    entry.Tunnel.Context.Abort();
                }
            }
        }));
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kept the tunnels of workspace {Sid}: the route store did not answer")]
    private partial void LogKeptStoreUnavailable(string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: closing {Count} tunnel(s) with 1001 going away")]
    private partial void LogClosingForShutdown(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reviewing tunnels for {Sid} failed")]
    private partial void LogReviewFailed(Exception exception, string sid);

    internal readonly struct Lease(OpenTunnels owner, string sid, SidTunnels tunnels, Tunnel tunnel) : IDisposable
    {
        public void Dispose() => owner.Close(sid, tunnels, tunnel);
    }

    internal sealed class SidTunnels
    {
        public List<Tunnel> Items { get; } = [];

        public bool Retired { get; set; }
    }

    internal sealed class Tunnel(HttpContext context, string address)
    {
        public HttpContext Context { get; } = context;

        public string Address { get; } = address;

        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set once the browser's side is upgraded to a WebSocket.</summary>
        public ClosableWebSocketStream? WebSocket { get; set; }

        /// <summary>Completes when forwarding of this request is over.</summary>
        public Task Ended => _ended.Task;

        public void MarkEnded() => _ended.TrySetResult();
    }
}
