using System.Diagnostics;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Routing;

/// <summary>
/// The gateway on a Sentinel-managed Redis (primary, replica, three Sentinels) whose primary dies. The
/// gateway runs in its own process on one CPU, as deployed: how its thread pool copes with the client's
/// failover work is part of what is tested, and the test process's own pool must not stand in for it.
/// </summary>
public sealed class RedisSentinelTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly RedisSentinelGroup _redis = new();
    private TestBackend _a = null!;
    private TestBackend _b = null!;
    private GatewayProcess _gateway = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _a = await TestBackend.StartAsync("A");
        _b = await TestBackend.StartAsync("B");
        _gateway = GatewayProcess.Start(("Gateway__Redis__Configuration", _redis.Configuration), ("DOTNET_PROCESSOR_COUNT", "1"));
        await _gateway.WhenServingAsync(client => client.GetAsync(new Uri("/readyz", UriKind.Relative)));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task When_the_primary_dies_cached_workspaces_keep_answering_and_new_routes_and_invalidations_work_after_the_failover()
    {
        using var writer = new RedisTestClient(_redis.Configuration);
        var sids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var sid = "w" + Guid.NewGuid().ToString("N")[..12];
            await writer.SetRouteAsync(sid, _a.Address);
            await RedisSentinelGroup.WaitUntilAsync(async () => await _gateway.Client.BackendOfAsync(sid) == "A", $"{sid} is served", TimeSpan.FromSeconds(5));
            sids.Add(sid);
        }

        // Steady traffic over every cached workspace for the whole failover.
        using var stopTraffic = new CancellationTokenSource();
        var answers = new Dictionary<string, int>();
        var slowest = TimeSpan.Zero;
        var traffic = Task.Run(async () =>
        {
            while (!stopTraffic.IsCancellationRequested)
            {
                foreach (var sid in sids[1..])
                {
                    var started = Stopwatch.GetTimestamp();
                    var backend = await _gateway.Client.BackendOfAsync(sid);
                    var took = Stopwatch.GetElapsedTime(started);
                    slowest = took > slowest ? took : slowest;
                    answers[backend] = answers.GetValueOrDefault(backend) + 1;
                }

                await Task.Delay(20);
            }
        });

        var oldPrimary = await _redis.CurrentPrimaryPortAsync();
        var clock = Stopwatch.StartNew();
        _redis.KillPrimary();
        await _redis.WaitForNewPrimaryAsync(oldPrimary, TimeSpan.FromSeconds(60));
        var promoted = clock.Elapsed;

        // A writer (the operator) retries until the new primary takes its writes.
        var fresh = "w" + Guid.NewGuid().ToString("N")[..12];
        await RedisSentinelGroup.WaitUntilAsync(async () =>
        {
            await writer.SetRouteAsync(fresh, _b.Address);
            await writer.PublishAsync(fresh);
            return true;
        }, "the new primary takes writes", TimeSpan.FromSeconds(30));
        var writable = clock.Elapsed;

        await RedisSentinelGroup.WaitUntilAsync(async () => await _gateway.Client.BackendOfAsync(fresh) == "B", "a new route is served", TimeSpan.FromSeconds(30));
        var newRoute = clock.Elapsed;

        var moved = sids[0];
        await writer.SetRouteAsync(moved, _b.Address);
        await writer.PublishAsync(moved);
        var published = clock.Elapsed;
        await RedisSentinelGroup.WaitUntilAsync(async () => await _gateway.Client.BackendOfAsync(moved) == "B", "a moved route is served", TimeSpan.FromSeconds(30));
        var invalidated = clock.Elapsed - published;

        await stopTraffic.CancelAsync();
        await traffic;
        output.WriteLine($"after the primary was killed: promoted at {promoted.TotalSeconds:F1} s, writable at {writable.TotalSeconds:F1} s, a new route served at {newRoute.TotalSeconds:F1} s, then a move published and served in {invalidated.TotalMilliseconds:F0} ms");
        output.WriteLine("cached traffic: " + string.Join(", ", answers.Select(a => $"{a.Key} x{a.Value}")) + $", slowest answer {slowest.TotalMilliseconds:F0} ms");

        Assert.Equal(["A"], answers.Keys);
        Assert.True(slowest < TimeSpan.FromMilliseconds(500), $"a cached workspace took {slowest.TotalMilliseconds:F0} ms to answer during the failover");
        Assert.True(invalidated < TimeSpan.FromSeconds(2), $"invalidation after the failover took {invalidated.TotalMilliseconds:F0} ms");
    }
}
