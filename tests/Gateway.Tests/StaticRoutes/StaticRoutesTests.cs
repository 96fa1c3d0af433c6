using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.StaticRoutes;

public sealed class StaticRoutesTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>, IDisposable
{
    private readonly TempGatewayConfig _config = new();

    public void Dispose() => _config.Dispose();

    [Fact]
    public async Task Static_routes_come_from_the_config_file_and_follow_its_edits()
    {
        WriteConfig(env.A.Address);
        await using var gateway = await GatewayHost.StartAsync(env.Redis.Configuration, _config.Path);

        var echo = await gateway.Client.GetFromJsonAsync<EchoReply>(new Uri("/api/users?me=1", UriKind.Relative));
        Assert.Equal("A", echo!.Backend);
        Assert.Equal("/api/users?me=1", echo.RawTarget);
        using (var outside = await gateway.Client.GetAsync(new Uri("/elsewhere", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        }

        WriteConfig(env.B.Address);

        var clock = Stopwatch.StartNew();
        while ((await gateway.Client.GetFromJsonAsync<EchoReply>(new Uri("/api/users", UriKind.Relative)))!.Backend != "B")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "edited static route not picked up within 10 s");
            await Task.Delay(50);
        }
    }

    private void WriteConfig(string apiAddress) => _config.Write(gateway => gateway["StaticRoutes"] = new JsonObject
    {
        ["api"] = new JsonObject { ["PathPrefix"] = "/api", ["Destination"] = $"http://{apiAddress}" },
    });
}
