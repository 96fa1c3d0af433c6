using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// A gateway that exports traces listens to ASP.NET Core's activity source, and such a listener is process-wide:
/// while it lives every gateway in the test process sees request spans recorded and keeps its requests off the fast
/// path. Its tests run alone, after the others.
/// </summary>
[CollectionDefinition(nameof(TracesExported), DisableParallelization = true)]
public sealed class TracesExported;

/// <summary>OTLP export received by a real loopback listener, as a collector would.</summary>
[Collection(nameof(TracesExported))]
public sealed class OtlpExportTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task With_an_endpoint_configured_our_metrics_and_request_traces_reach_the_collector()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(env.Redis,
            $"--Gateway:Telemetry:OtlpEndpoint=http://127.0.0.1:{collector.Port}",
            "--Gateway:Telemetry:MetricsExportInterval=00:00:00.500",
            "--Gateway:Telemetry:TunnelsPerSid=true");

        var sid = await env.RouteAsync(env.A);
        Assert.Equal("A", await gateway.Client.BackendOfAsync(sid));
        Assert.Equal("A", await gateway.Client.BackendOfAsync(sid));
        using (var missing = await gateway.Client.GetAsync(new Uri("/ws/nosuchworkspace/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None);

        string[] expected =
        [
            "gateway.route_cache.hits", "gateway.route_cache.misses", "gateway.redis.lookup.duration", "gateway.errors",
            "workspace_not_running", "gateway.tunnels.open", "gateway.workspace_connections.open", "gateway.invalidations.received",
            "gateway.tunnels.open_by_sid", sid,

            // The shared set-up's instrumentations: ASP.NET Core, HttpClient (to the workspace), runtime.
            "http.server.request.duration", "http.client.request.duration", "dotnet.gc.collections", GatewayApplication.ServiceName,
        ];
        await collector.AssertReceivedAsync(expected);
        await collector.AssertReceivedAsync([$"/ws/{sid}/who"], inTraces: true);
    }

    [Fact]
    public async Task A_warning_reaches_the_collector_as_a_log_record_with_its_workspace_and_the_configured_headers()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(env.Redis,
            $"--Gateway:Telemetry:OtlpEndpoint=http://127.0.0.1:{collector.Port}", "--Gateway:Telemetry:Headers=x-otlp-api-key=dashboard-key");
        var sid = await env.RouteAsync(env.A);
        await env.Writer.SetRouteAsync(sid, $"127.0.0.1:{FreePort.Next()}");

        using (var refused = await gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        }

        await Eventually.TrueAsync(
            () => collector.Logs.Contains("Forwarding to workspace", StringComparison.Ordinal) && collector.Logs.Contains(sid, StringComparison.Ordinal),
            "the forwarding failure is exported as a log record naming its workspace");
        Assert.Contains("dashboard-key", collector.ApiKeys);
    }

    [Fact]
    public async Task Exported_traces_never_carry_a_ticket()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(env.Redis,
            [.. TestTickets.GatewayArgs, $"--Gateway:Telemetry:OtlpEndpoint=http://127.0.0.1:{collector.Port}", "--Gateway:Telemetry:MetricsExportInterval=00:00:00.500"]);
        var sid = await env.RouteAsync(env.A);
        var ticket = TestTickets.Ticket(sid);

        using (var navigation = await gateway.Client.GetAsync(new Uri($"/ws/{sid}/?ticket={ticket}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, navigation.StatusCode);
        }

        using (var upload = await gateway.Client.PostAsync(new Uri($"/ws/{sid}/upload?ticket={ticket}&x=1", UriKind.Relative), new StringContent("data")))
        {
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        while (!collector.Traces.Contains("/upload", StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "no trace of the forwarded request after 15 s");
            await Task.Delay(200);
        }

        Assert.DoesNotContain(ticket[(ticket.LastIndexOf('.') + 1)..], collector.Traces, StringComparison.Ordinal);
        Assert.DoesNotContain(ticket.Split('.')[1], collector.Traces, StringComparison.Ordinal);
    }
}
