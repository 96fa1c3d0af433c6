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

    // Against DNS rebinding and foreign names: the platform's page only on the names it is given.
    [Theory]
    [InlineData("ide.test", HttpStatusCode.OK)]
    [InlineData("IDE.TEST:8080", HttpStatusCode.OK)]
    [InlineData("localhost:5000", HttpStatusCode.OK)]
    [InlineData("localhost:5001", HttpStatusCode.MisdirectedRequest)]
    [InlineData("evil.example.com", HttpStatusCode.MisdirectedRequest)]
    [InlineData("garbage", HttpStatusCode.MisdirectedRequest)]
    [InlineData("127.0.0.1", HttpStatusCode.MisdirectedRequest)]
    [InlineData("xn--zz", HttpStatusCode.MisdirectedRequest)]
    public async Task The_page_is_served_only_on_the_platforms_host_names(string host, HttpStatusCode expected)
    {
        _config.Write(gateway =>
        {
            gateway["StaticRoutes"] = new JsonObject { ["web"] = new JsonObject { ["PathPrefix"] = "/", ["Destination"] = $"http://{env.A.Address}" } };
            gateway["Routes"]!["PlatformHosts"] = new JsonArray("ide.test", "localhost:5000");
        });
        await using var gateway = await GatewayHost.StartAsync(env.Redis.Configuration, _config.Path);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = host;
        request.Headers.Accept.ParseAdd("application/json");

        using var response = await gateway.Client.SendAsync(request);
        using var health = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        health.Headers.Host = host;
        using var probe = await gateway.Client.SendAsync(health);

        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Contains("unknown_host", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Probes come by the pod's address: health answers on any name.
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
    }

    private void WriteConfig(string apiAddress) => _config.Write(gateway => gateway["StaticRoutes"] = new JsonObject
    {
        ["api"] = new JsonObject { ["PathPrefix"] = "/api", ["Destination"] = $"http://{apiAddress}" },
    });
}
