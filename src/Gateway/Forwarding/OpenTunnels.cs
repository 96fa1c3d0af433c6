using System.Collections.Concurrent;
using Gateway.Routing;

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
    // Upgrades are rare next to plain requests: a lock per sid is fine here, and never taken per request.
    private readonly ConcurrentDictionary<string, SidTunnels> _bySid = new(StringComparer.Ordinal);
    private readonly IRouteResolver _resolver;
    private readonly ILogger<OpenTunnels> _logger;
    private readonly Lock _reviewsLock = new();
    private Task _reviews = Task.CompletedTask;
    private int _count;

    public OpenTunnels(IRouteResolver resolver, ILogger<OpenTunnels> logger)
    {
        _resolver = resolver;
        _logger = logger;
    }

    /// <summary>Upgraded connections open now, all sids.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Tracks <paramref name="context"/> until the returned lease is disposed (when forwarding ends).</summary>
    public Lease Open(WorkspaceRoute route, HttpContext context)
    {
        var tunnel = new Tunnel(context, route.Address);
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

    private void Close(string sid, SidTunnels tunnels, Tunnel tunnel)
    {
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

    internal sealed record Tunnel(HttpContext Context, string Address);
}
