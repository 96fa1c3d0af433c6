using System.Diagnostics;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Routing;

public sealed class RedisOutageTests(GatewayWithBackends env, ITestOutputHelper output) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task A_route_changed_while_redis_was_away_is_served_within_5_s_of_its_return()
    {
        var sid = await env.RouteAsync(env.A);
        Assert.Equal("A", await BackendOfAsync(sid));

        env.Redis.Kill();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("A", await BackendOfAsync(sid));
        }

        // The workspace moved while Redis was down; the notice of the move was never delivered.
        await env.Redis.RestartAsync();
        var clock = Stopwatch.StartNew();
        using (var writer = env.Redis.Connect())
        {
            await writer.SetRouteAsync(sid, env.B.Address);
        }

        while (await BackendOfAsync(sid) != "B")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "moved route not served within 5 s of Redis returning");
            await Task.Delay(20);
        }

        output.WriteLine($"moved route served {clock.ElapsedMilliseconds} ms after Redis returned");
    }

    private Task<string> BackendOfAsync(string sid) => env.Gateway.Client.BackendOfAsync(sid);
}
