using Contracts.Sharing;
using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Routing;

/// <summary>
/// Cache semantics against an in-memory store whose timing the test controls. The same behaviours are
/// covered against a real redis-server in <see cref="RedisResolutionTests"/>.
/// </summary>
public sealed class RouteCacheTests : IDisposable
{
    private readonly ControlledStore _store = new();
    private readonly ManualTimeProvider _time = new();
    private readonly RouteCache _cache;

    public RouteCacheTests()
    {
        var options = new GatewayOptions
        {
            Routes = new RoutesOptions { CacheTtl = TimeSpan.FromSeconds(30), NegativeCacheTtl = TimeSpan.FromSeconds(2) },
        };
        _cache = new RouteCache(_store, new TestOptions(options), _time, NullLogger<RouteCache>.Instance);
    }

    public void Dispose() => _cache.Dispose();

    [Fact]
    public async Task A_resolved_route_is_served_from_memory_until_it_expires()
    {
        _store.Routes["a"] = "10.0.0.1:9999";

        var first = await _cache.ResolveAsync("a", default);
        Assert.Equal(RouteLookupStatus.Found, first.Status);
        Assert.True(_cache.TryGetCached("a", out var cached));
        Assert.Equal("http://10.0.0.1:9999", cached.Route!.DestinationPrefix);
        Assert.Equal(1, _store.Calls);

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.False(_cache.TryGetCached("a", out _));
        _store.Routes["a"] = "10.0.0.2:9999";
        var refreshed = await _cache.ResolveAsync("a", default);
        Assert.Equal("10.0.0.2:9999", refreshed.Route!.Address);
        Assert.Equal(2, _store.Calls);
    }

    [Fact]
    public async Task A_cached_route_is_refreshed_from_the_primary_alone_and_a_new_or_negative_one_from_any_node()
    {
        _store.Routes["a"] = "10.0.0.1:9999";
        await _cache.ResolveAsync("a", default);
        await _cache.ResolveAsync("ghost", default);

        _time.Advance(TimeSpan.FromSeconds(31));
        await _cache.ResolveAsync("a", default);
        await _cache.ResolveAsync("ghost", default);

        Assert.Equal([RouteReadSource.AnyNode, RouteReadSource.AnyNode, RouteReadSource.Primary, RouteReadSource.AnyNode], _store.Sources);
    }

    [Fact]
    public async Task Concurrent_misses_share_one_store_lookup()
    {
        _store.Routes["a"] = "10.0.0.1:9999";
        _store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var waiters = Enumerable.Range(0, 100).Select(_ => _cache.ResolveAsync("a", default).AsTask()).ToArray();
        _store.Gate.SetResult();
        var results = await Task.WhenAll(waiters);

        Assert.All(results, r => Assert.Equal(RouteLookupStatus.Found, r.Status));
        Assert.Equal(1, _store.Calls);
    }

    [Fact]
    public async Task Unknown_sids_are_remembered_for_the_negative_ttl_only()
    {
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(RouteLookupStatus.NotFound, (await _cache.ResolveAsync("ghost", default)).Status);
        }

        Assert.Equal(1, _store.Calls);

        _store.Routes["ghost"] = "10.0.0.1:9999";
        _time.Advance(TimeSpan.FromSeconds(2.1));
        Assert.Equal(RouteLookupStatus.Found, (await _cache.ResolveAsync("ghost", default)).Status);
        Assert.Equal(2, _store.Calls);
    }

    [Fact]
    public async Task Invalidation_during_a_lookup_makes_the_next_request_look_again()
    {
        _store.Routes["a"] = "10.0.0.1:9999";
        _store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = _cache.ResolveAsync("a", default).AsTask();

        // The writer moves the workspace and publishes while the old answer is still on its way.
        _store.Routes["a"] = "10.0.0.2:9999";
        _cache.Invalidate("a");
        _store.Gate.SetResult();
        await inFlight;

        var next = await _cache.ResolveAsync("a", default);
        Assert.Equal("10.0.0.2:9999", next.Route!.Address);
    }

    [Fact]
    public async Task Flushing_drops_every_entry()
    {
        _store.Routes["a"] = "10.0.0.1:1";
        _store.Routes["b"] = "10.0.0.1:2";
        await _cache.ResolveAsync("a", default);
        await _cache.ResolveAsync("b", default);

        _cache.InvalidateAll();

        Assert.False(_cache.TryGetCached("a", out _));
        Assert.False(_cache.TryGetCached("b", out _));
    }

    [Fact]
    public async Task An_unavailable_store_is_not_cached_as_an_answer()
    {
        _store.Failing = true;
        Assert.Equal(RouteLookupStatus.StoreUnavailable, (await _cache.ResolveAsync("a", default)).Status);

        _store.Failing = false;
        _store.Routes["a"] = "10.0.0.1:9999";
        Assert.Equal(RouteLookupStatus.Found, (await _cache.ResolveAsync("a", default)).Status);
    }

    [Fact]
    public async Task An_expired_route_keeps_being_served_while_the_store_is_down()
    {
        _store.Routes["a"] = "10.0.0.1:9999";
        await _cache.ResolveAsync("a", default);
        _time.Advance(TimeSpan.FromMinutes(5));
        _store.Failing = true;

        var lookup = await _cache.ResolveAsync("a", default);

        Assert.Equal(RouteLookupStatus.Found, lookup.Status);
        Assert.Equal("10.0.0.1:9999", lookup.Route!.Address);
    }

    [Fact]
    public async Task A_garbage_value_is_reported_as_invalid()
    {
        _store.Routes["a"] = "not-an-address";
        Assert.Equal(RouteLookupStatus.Invalid, (await _cache.ResolveAsync("a", default)).Status);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_does_not_cancel_the_shared_lookup()
    {
        _store.Routes["a"] = "10.0.0.1:9999";
        _store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var impatient = new CancellationTokenSource();
        var cancelled = _cache.ResolveAsync("a", impatient.Token).AsTask();
        var patient = _cache.ResolveAsync("a", default).AsTask();

        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        _store.Gate.SetResult();

        Assert.Equal(RouteLookupStatus.Found, (await patient).Status);
        Assert.Equal(1, _store.Calls);
    }

    [Fact]
    public async Task Revalidation_keeps_unchanged_routes_replaces_moved_ones_and_drops_nothing_when_the_store_fails()
    {
        _store.Routes["same"] = "10.0.0.1:1";
        _store.Routes["moved"] = "10.0.0.1:2";
        _store.Routes["stopped"] = "10.0.0.1:3";
        var same = (await _cache.ResolveAsync("same", default)).Route;
        await _cache.ResolveAsync("moved", default);
        await _cache.ResolveAsync("stopped", default);

        // Changes whose notices were lost in a gap; then Redis fails again before the revalidation reads.
        _store.Routes["moved"] = "10.0.0.2:2";
        _store.Routes.Remove("stopped");
        _store.Failing = true;
        await Assert.ThrowsAsync<RouteStoreUnavailableException>(() => _cache.RevalidateAsync(default));
        Assert.True(_cache.TryGetCached("moved", out var servedThrough));
        Assert.Equal("10.0.0.1:2", servedThrough.Route!.Address);
        Assert.True(_cache.TryGetCached("stopped", out _));

        _store.Failing = false;
        var changed = await _cache.RevalidateAsync(default);

        Assert.Equal(["moved", "stopped"], changed.Order());
        Assert.True(_cache.TryGetCached("same", out var kept));
        Assert.Same(same, kept.Route);
        Assert.True(_cache.TryGetCached("moved", out var moved));
        Assert.Equal("10.0.0.2:2", moved.Route!.Address);
        Assert.True(_cache.TryGetCached("stopped", out var stopped));
        Assert.Equal(RouteLookupStatus.NotFound, stopped.Status);

        // Three lookups, then one bulk read per revalidation: not a lookup per route.
        Assert.Equal(5, _store.Calls);
    }

    [Fact]
    public async Task Revalidation_does_not_overwrite_an_answer_that_arrived_meanwhile()
    {
        _store.Routes["a"] = "10.0.0.1:1";
        await _cache.ResolveAsync("a", default);
        _store.BulkGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var revalidation = _cache.RevalidateAsync(default);

        // The bulk read saw the old value; a notice and a fresh lookup of the new one come in before it returns.
        _store.Routes["a"] = "10.0.0.9:1";
        _cache.Invalidate("a");
        Assert.Equal("10.0.0.9:1", (await _cache.ResolveAsync("a", default)).Route!.Address);
        _store.SnapshotForBulk = new() { ["a"] = "10.0.0.1:1" };
        _store.BulkGate.SetResult();
        await revalidation;

        Assert.True(_cache.TryGetCached("a", out var current));
        Assert.Equal("10.0.0.9:1", current.Route!.Address);
    }

    [Fact]
    public async Task Sharing_comes_with_the_route_and_with_a_stopped_workspace_and_unreadable_sharing_shares_nothing()
    {
        _store.Routes["a"] = "10.0.0.1:1";
        _store.Shares["a"] = "3000=public,8080=authenticated";
        _store.Shares["stopped"] = "3000=public";
        _store.Routes["bad"] = "10.0.0.2:1";
        _store.Shares["bad"] = "3000=everyone";

        var running = await _cache.ResolveAsync("a", default);
        Assert.Equal(PortSharing.Public, running.Shares.For(3000));
        Assert.Equal(PortSharing.Authenticated, running.Shares.For(8080));
        Assert.Equal(PortSharing.Private, running.Shares.For(5173));

        var stopped = await _cache.ResolveAsync("stopped", default);
        Assert.Equal(RouteLookupStatus.NotFound, stopped.Status);
        Assert.Equal(PortSharing.Public, stopped.Shares.For(3000));

        var bad = await _cache.ResolveAsync("bad", default);
        Assert.Equal(RouteLookupStatus.Found, bad.Status);
        Assert.Equal(PortSharing.Private, bad.Shares.For(3000));
    }

    [Fact]
    public async Task Revalidation_reports_a_change_of_sharing_alone()
    {
        _store.Routes["a"] = "10.0.0.1:1";
        _store.Shares["a"] = "3000=public";
        await _cache.ResolveAsync("a", default);

        Assert.Empty(await _cache.RevalidateAsync(default));
        _store.Shares.Remove("a");
        Assert.Equal(["a"], await _cache.RevalidateAsync(default));
        Assert.True(_cache.TryGetCached("a", out var current));
        Assert.Equal(PortSharing.Private, current.Shares.For(3000));
        Assert.Equal("10.0.0.1:1", current.Route!.Address);
    }

    private sealed class ControlledStore : IRouteStore
    {
        private int _calls;

        public Dictionary<string, string> Routes { get; } = [];

        public Dictionary<string, string> Shares { get; } = [];

        public TaskCompletionSource? Gate { get; set; }

        public bool Failing { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        /// <summary>The node each single read allowed, in order.</summary>
        public List<RouteReadSource> Sources { get; } = [];

        public async Task<StoredRoute> GetAsync(string sid, RouteReadSource source, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            lock (Sources)
            {
                Sources.Add(source);
            }

            if (Gate is { } gate)
            {
                await gate.Task;
            }

            if (Failing)
            {
                throw new RouteStoreUnavailableException("down");
            }

            return new StoredRoute(Routes.GetValueOrDefault(sid), Shares.GetValueOrDefault(sid));
        }

        public TaskCompletionSource? BulkGate { get; set; }

        /// <summary>What a gated bulk read answers (the values it read before the gate opened).</summary>
        public Dictionary<string, string>? SnapshotForBulk { get; set; }

        public async Task<StoredRoute[]> GetManyAsync(IReadOnlyList<string> sids, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (BulkGate is { } gate)
            {
                await gate.Task;
            }

            if (Failing)
            {
                throw new RouteStoreUnavailableException("down");
            }

            var source = SnapshotForBulk ?? Routes;
            return [.. sids.Select(sid => new StoredRoute(source.GetValueOrDefault(sid), Shares.GetValueOrDefault(sid)))];
        }
    }
}
