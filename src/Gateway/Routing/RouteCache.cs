using System.Collections.Concurrent;
using Contracts.Sharing;
using Gateway.Configuration;
using Gateway.Diagnostics;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// In-memory routes in front of the store. Hits are one lock-free dictionary read keyed by a span of the
/// request path (no allocation); misses share one store lookup per sid; invalidation removes the entry, so
/// a lookup that was in flight when a change was announced completes into an orphan that nobody reads.
/// </summary>
internal sealed partial class RouteCache : IRouteResolver, IRouteInvalidator, IDisposable
{
    // While the store is down an expired route keeps being served (stale-if-error, RFC 5861) and is retried this often.
    private static readonly TimeSpan StaleRetryInterval = TimeSpan.FromSeconds(1);

    // Positive entries nobody refreshed for this long after expiry are dropped by the sweeper.
    private static readonly TimeSpan UnusedRouteRetention = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _entriesBySpan;
    private readonly IRouteStore _store;
    private readonly IOptionsMonitor<GatewayOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RouteCache> _logger;
    private readonly ITimer _sweeper;
    private readonly LogBudget _failureLogs;

    public RouteCache(IRouteStore store, IOptionsMonitor<GatewayOptions> options, TimeProvider time, ILogger<RouteCache> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _failureLogs = LogBudget.PerSecond(time);
        _logger = logger;
        _entriesBySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
        _sweeper = time.CreateTimer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public int Count => _entries.Count;

    /// <summary>The routes resolved now (not the negative or pending entries).</summary>
    internal IEnumerable<WorkspaceRoute> Routes
    {
        get
        {
            foreach (var entry in _entries.Values)
            {
                if (entry.IsCompleted && entry.Result.Route is { } route)
                {
                    yield return route;
                }
            }
        }
    }

    public bool TryGetCached(ReadOnlySpan<char> sid, out RouteLookup lookup)
    {
        if (_entriesBySpan.TryGetValue(sid, out var entry) && entry.IsCompleted && _time.GetTimestamp() < entry.ExpiresAt)
        {
            lookup = entry.Result;
            return true;
        }

        lookup = default;
        return false;
    }

    public ValueTask<RouteLookup> ResolveAsync(string sid, CancellationToken cancellationToken)
    {
        while (true)
        {
            Entry entry;
            if (_entries.TryGetValue(sid, out var existing))
            {
                if (!existing.IsCompleted)
                {
                    return new ValueTask<RouteLookup>(existing.Task.WaitAsync(cancellationToken));
                }

                if (_time.GetTimestamp() < existing.ExpiresAt)
                {
                    return new ValueTask<RouteLookup>(existing.Result);
                }

                entry = new Entry(existing.Result.Route is null ? null : existing.Result);
                if (!_entries.TryUpdate(sid, entry, existing))
                {
                    continue;
                }
            }
            else
            {
                entry = new Entry(stale: null);
                if (!_entries.TryAdd(sid, entry))
                {
                    continue;
                }
            }

            // The lookup belongs to every waiter, so one client going away must not cancel it.
            _ = LookupAsync(sid, entry);
            return new ValueTask<RouteLookup>(entry.Task.WaitAsync(cancellationToken));
        }
    }

    public void Invalidate(string sid)
    {
        if (_entries.TryRemove(sid, out _))
        {
            LogInvalidated(sid);
        }
    }

    public void InvalidateAll()
    {
        _entries.Clear();
        LogFlushed();
    }

    public void Dispose() => _sweeper.Dispose();

    /// <summary>
    /// Re-reads every resolved entry after invalidations may have been missed (a gap in the subscription).
    /// Unlike a flush, nothing is dropped while the store cannot answer: each entry keeps serving until the
    /// store's answer replaces it, and only where that answer differs (another address, or none). An entry
    /// that changed meanwhile (a notice arrived, a lookup completed) is left to the newer answer.
    /// </summary>
    /// <returns>The sids whose route changed.</returns>
    /// <exception cref="RouteStoreUnavailableException">Part of the cache could not be checked; call again.</exception>
    public async Task<IReadOnlyList<string>> RevalidateAsync(CancellationToken cancellationToken)
    {
        var snapshot = new List<KeyValuePair<string, Entry>>(_entries.Count);
        foreach (var pair in _entries)
        {
            if (pair.Value.IsCompleted)
            {
                snapshot.Add(pair);
            }
        }

        if (snapshot.Count == 0)
        {
            return [];
        }

        var stored = await _store.GetManyAsync([.. snapshot.Select(pair => pair.Key)], cancellationToken);
        var changed = new List<string>();
        for (var i = 0; i < snapshot.Count; i++)
        {
            var (sid, entry) = snapshot[i];
            var (result, ttl) = Classify(sid, stored[i]);
            var unchanged = result.SameAs(entry.Result);

            // Unchanged: the same route object (its use mark included) with a fresh expiry.
            var replacement = Entry.Completed(unchanged ? entry.Result : result, ExpiryAfter(ttl));
            if (_entries.TryUpdate(sid, replacement, entry) && !unchanged)
            {
                changed.Add(sid);
                LogRevalidatedChange(sid, entry.Result.Route?.Address ?? "none", result.Route?.Address ?? "none");
            }
        }

        return changed;
    }

    // Never throws and always completes the entry: every waiter of this sid is parked on it.
    private async Task LookupAsync(string sid, Entry entry)
    {
        RouteLookup result;
        TimeSpan ttl;
        try
        {
            // A cached route is replaced only by the primary's answer: through a failover a replica can say "none"
            // for a workspace that runs, and every request to it would be refused until the next refresh.
            var source = entry.Stale is null ? RouteReadSource.AnyNode : RouteReadSource.Primary;
            (result, ttl) = Classify(sid, await _store.GetAsync(sid, source, CancellationToken.None));
        }
        catch (Exception ex)
        {
            if (ex is not RouteStoreUnavailableException)
            {
                LogUnexpectedStoreFailure(ex, sid);
            }
            else if (_failureLogs.TryTake(out var suppressed))
            {
                LogStoreUnavailable(sid, ex.Message, entry.Stale is not null, suppressed);
            }

            if (entry.Stale is { } stale)
            {
                (result, ttl) = (stale, StaleRetryInterval);
            }
            else
            {
                // Nothing to fall back on: answer 503 and leave no entry, so the next request tries again.
                _entries.TryRemove(KeyValuePair.Create(sid, entry));
                (result, ttl) = (RouteLookup.StoreUnavailable, TimeSpan.Zero);
            }
        }

        entry.Complete(result, ExpiryAfter(ttl));
    }

    /// <summary>What the stored values mean, and how long to keep that answer.</summary>
    private (RouteLookup Result, TimeSpan Ttl) Classify(string sid, StoredRoute stored)
    {
        var routes = _options.CurrentValue.Routes;

        // Fail closed: a value nobody can read shares nothing.
        var shares = PortShares.None;
        if (stored.Shares is not null && !PortShares.TryParse(stored.Shares, out shares))
        {
            LogInvalidShares(sid, stored.Shares);
        }

        if (stored.Address is not { } address)
        {
            return (RouteLookup.NotRunning(shares), routes.NegativeCacheTtl);
        }

        if (WorkspaceRoute.TryParse(sid, address, routes.UnixSocketDirectory, out var route))
        {
            return (RouteLookup.Found(route!, shares), routes.CacheTtl);
        }

        LogInvalidRoute(sid, address);
        return (RouteLookup.Invalid, routes.NegativeCacheTtl);
    }

    private long ExpiryAfter(TimeSpan ttl) => _time.GetTimestamp() + (long)(ttl.TotalSeconds * _time.TimestampFrequency);

    private void Sweep()
    {
        var now = _time.GetTimestamp();
        var retention = (long)(UnusedRouteRetention.TotalSeconds * _time.TimestampFrequency);
        foreach (var (sid, entry) in _entries)
        {
            if (!entry.IsCompleted)
            {
                continue;
            }

            var keepUntil = entry.Result.Status == RouteLookupStatus.Found ? entry.ExpiresAt + retention : entry.ExpiresAt;
            if (now >= keepUntil)
            {
                _entries.TryRemove(KeyValuePair.Create(sid, entry));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Route cache entry for workspace {Sid} invalidated")]
    private partial void LogInvalidated(string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Route cache flushed")]
    private partial void LogFlushed();

    [LoggerMessage(Level = LogLevel.Information, Message = "Route of workspace {Sid} changed while invalidations were interrupted: {Previous} -> {Current}")]
    private partial void LogRevalidatedChange(string sid, string previous, string current);

    [LoggerMessage(Level = LogLevel.Error, Message = "Route for workspace {Sid} is not a valid host:port: {Address}")]
    private partial void LogInvalidRoute(string sid, string address);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sharing of workspace {Sid}'s ports is not a list of port=private|authenticated|public: {Shares}; every port is treated as private")]
    private partial void LogInvalidShares(string sid, string shares);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Route lookup for workspace {Sid} failed: {Reason}; served from stale cache: {ServedStale} ({Suppressed} similar lines suppressed before this one)")]
    private partial void LogStoreUnavailable(string sid, string reason, bool servedStale, long suppressed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Route lookup for workspace {Sid} failed unexpectedly")]
    private partial void LogUnexpectedStoreFailure(Exception exception, string sid);

    /// <summary>One sid's answer: pending while its lookup runs, then immutable.</summary>
    private sealed class Entry(RouteLookup? stale)
    {
        private readonly TaskCompletionSource<RouteLookup> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _isCompleted;

        /// <summary>The found answer this entry replaces, served if the refresh fails.</summary>
        public RouteLookup? Stale { get; } = stale;

        public bool IsCompleted => _isCompleted;

        // Written before the volatile _isCompleted, read after it.
        public RouteLookup Result { get; private set; }

        public long ExpiresAt { get; private set; }

        public Task<RouteLookup> Task => _completion.Task;

        public static Entry Completed(RouteLookup result, long expiresAt)
        {
            var entry = new Entry(stale: null);
            entry.Complete(result, expiresAt);
            return entry;
        }

        public void Complete(RouteLookup result, long expiresAt)
        {
            Result = result;
            ExpiresAt = expiresAt;
            _isCompleted = true;
            _completion.SetResult(result);
        }
    }
}
