using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Routing;

/// <summary>
/// The gateway on a Sentinel-managed Redis whose primary is gone, with a replica that answers reads and lacks a
/// route the primary had (as a replica that lags or is resynchronising does): what is cached stays served until
/// a primary answers otherwise.
/// </summary>
public sealed class ReplicaReadTests : IAsyncLifetime
{
    private readonly RedisSentinelGroup _redis = new();
    private TestBackend _backend = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _backend = await TestBackend.StartAsync("A");
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    // Two ways a cached route is read again: its expiry (every 300 ms here, so that one surely falls in the window
    // below), and the revalidation after the invalidations' subscription was interrupted (the primary's death
    // interrupts it; with a 30-s expiry only that happens).
    [Theory]
    [InlineData("00:00:00.300")]
    [InlineData("00:00:30")]
    public async Task A_cached_workspace_keeps_answering_while_only_a_replica_without_its_route_can_be_read(string cacheTtl)
    {
        await using var gateway = await GatewayHost.StartAsync(_redis.Configuration, RepositoryPaths.GatewayConfig, $"--Gateway:Routes:CacheTtl={cacheTtl}");
        using var writer = new RedisTestClient(_redis.Configuration);
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await writer.SetRouteAsync(sid, _backend.Address);
        await Eventually.TrueAsync(async () => await gateway.Client.BackendOfAsync(sid) == "A", "the workspace is served");

        // The replica loses the route (writable for the test only) and may never be promoted: the Sentinels keep
        // the dead primary as the primary, and only the replica can answer.
        await using (var replica = await RespConnection.OpenAsync(_redis.Replica.Port))
        {
            await replica.SendAsync("CONFIG", "SET", "replica-read-only", "no");
            await replica.SendAsync("CONFIG", "SET", "replica-priority", "0");
            Assert.Equal(":1", await replica.SendAsync("HDEL", "hosts", sid));
        }

        _redis.KillPrimary();
        var statuses = new List<HttpStatusCode>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < until)
        {
            using var response = await gateway.Client.GetAsync(new Uri($"/ws/{sid}/who", UriKind.Relative));
            statuses.Add(response.StatusCode);
            await Task.Delay(50);
        }

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }
}
