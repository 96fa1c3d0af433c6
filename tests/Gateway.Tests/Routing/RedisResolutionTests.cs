using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Routing;

/// <summary>Resolution against a real redis-server, observed the way an operator would: by what Redis executed.</summary>
public sealed class RedisResolutionTests(GatewayWithBackends env, ITestOutputHelper output) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task Cache_hits_never_touch_redis()
    {
        // Routed without a notice: a PUBLISH arriving after the first lookup would drop the entry and count
        // one more lookup that no cache hit caused.
        var sid = await env.RouteCachedAsync(env.A);
        Assert.Equal("A", await BackendOfAsync(env.Gateway, sid));
        var before = await env.Writer.HGetCallsAsync();

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal("A", await BackendOfAsync(env.Gateway, sid));
        }

        Assert.Equal(before, await env.Writer.HGetCallsAsync());
    }

    [Fact]
    public async Task Concurrent_misses_for_one_sid_share_one_lookup()
    {
        await using var gateway = await GatewayHost.StartAsync(env.Redis, "--Gateway:Redis:LookupTimeout=00:00:05");
        var sid = await env.RouteAsync(env.A);
        var before = await env.Writer.HGetCallsAsync();

        // Paused, Redis holds every lookup, so all 40 requests arrive while the first one is in flight.
        env.Redis.Pause();
        Task<string>[] requests;
        try
        {
            requests = Enumerable.Range(0, 40).Select(_ => BackendOfAsync(gateway, sid, gateway.CreateClient())).ToArray();
            await Task.Delay(300);
        }
        finally
        {
            env.Redis.Resume();
        }

        Assert.All(await Task.WhenAll(requests), backend => Assert.Equal("A", backend));
        Assert.Equal(before + RedisTestClient.HGetsPerLookup, await env.Writer.HGetCallsAsync());
    }

    [Fact]
    public async Task Unknown_sids_are_cached_negatively_for_the_configured_time()
    {
        await using var gateway = await GatewayHost.StartAsync(env.Redis, "--Gateway:Routes:NegativeCacheTtl=00:00:00.500");
        var sid = "late" + Guid.NewGuid().ToString("N")[..8];
        var before = await env.Writer.HGetCallsAsync();

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(gateway, sid));
        }

        Assert.Equal(before + RedisTestClient.HGetsPerLookup, await env.Writer.HGetCallsAsync());

        // Written without a PUBLISH: seen once the negative entry expires.
        await env.Writer.SetRouteAsync(sid, env.A.Address);
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(gateway, sid));
        await Task.Delay(700);
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(gateway, sid));
    }

    [Fact]
    public async Task A_published_sid_takes_effect_within_100_ms_at_p99()
    {
        var sid = await env.RouteAsync(env.A);
        Assert.Equal("A", await BackendOfAsync(env.Gateway, sid));
        var latencies = new List<double>();

        for (var i = 0; i < 50; i++)
        {
            var target = i % 2 == 0 ? env.B : env.A;
            await env.Writer.SetRouteAsync(sid, target.Address);
            var clock = Stopwatch.StartNew();
            await env.Writer.PublishAsync(sid);
            while (await BackendOfAsync(env.Gateway, sid) != target.Name)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"switch {i} not seen after 5 s");
            }

            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        var p50 = latencies[latencies.Count / 2];
        var p99 = latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1];
        output.WriteLine($"invalidation latency over {latencies.Count} re-points: p50 {p50:F2} ms, p99 {p99:F2} ms, max {latencies[^1]:F2} ms");
        Assert.True(p99 < 100, $"p99 {p99:F2} ms");
    }

    [Fact]
    public async Task A_star_message_flushes_every_route()
    {
        var first = await env.RouteAsync(env.A);
        var second = await env.RouteAsync(env.A);
        Assert.Equal("A", await BackendOfAsync(env.Gateway, first));
        Assert.Equal("A", await BackendOfAsync(env.Gateway, second));

        await env.Writer.SetRouteAsync(first, env.B.Address);
        await env.Writer.SetRouteAsync(second, env.B.Address);
        await env.Writer.PublishAsync("*");

        await Eventually.TrueAsync(async () => await BackendOfAsync(env.Gateway, first) == "B" && await BackendOfAsync(env.Gateway, second) == "B", "both workspaces resolve to B");
    }

    [Fact]
    public async Task A_stopped_workspace_answers_404_once_its_route_is_removed_and_published()
    {
        var sid = await env.RouteAsync(env.A);
        Assert.Equal("A", await BackendOfAsync(env.Gateway, sid));

        await env.Writer.RemoveRouteAsync(sid);
        await env.Writer.PublishAsync(sid);

        await Eventually.TrueAsync(async () => await StatusOfAsync(env.Gateway, sid) == HttpStatusCode.NotFound, "the removed route answers 404");
    }

    [Fact]
    public async Task A_writer_that_forgets_to_publish_is_seen_after_the_cache_ttl()
    {
        // A TTL long enough that a loaded machine cannot let it pass between two consecutive requests.
        var ttl = TimeSpan.FromSeconds(2);
        await using var gateway = await GatewayHost.StartAsync(env.Redis, $"--Gateway:Routes:CacheTtl={ttl}");

        // Ready: its subscription works, so the first lookup below is not racing the connection.
        await Eventually.TrueAsync(async () => (await gateway.Client.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode, "the gateway is ready");

        // A new sid written without a publish: a publish could reach the gateway after the first request
        // and drop the entry that request cached, which also made this test flaky.
        var sid = "ttl" + Guid.NewGuid().ToString("N")[..12];
        await env.Writer.SetRouteAsync(sid, env.A.Address);
        Assert.Equal("A", await BackendOfAsync(gateway, sid));
        var cached = Stopwatch.StartNew();

        await env.Writer.SetRouteAsync(sid, env.B.Address);
        Assert.Equal("A", await BackendOfAsync(gateway, sid));

        await Eventually.TrueAsync(async () => await BackendOfAsync(gateway, sid) == "B", "the route moves to B");
        Assert.True(cached.Elapsed < ttl + TimeSpan.FromSeconds(2), $"took {cached.Elapsed}");
    }

    private static Task<string> BackendOfAsync(GatewayHost gateway, string sid, HttpClient? client = null) =>
        (client ?? gateway.Client).BackendOfAsync(sid);

    private static async Task<HttpStatusCode> StatusOfAsync(GatewayHost gateway, string sid)
    {
        using var response = await gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
        return response.StatusCode;
    }
}
