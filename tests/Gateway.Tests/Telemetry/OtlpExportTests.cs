using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Telemetry;

/// <summary>OTLP export received by a real loopback listener, as a collector would (issue #4).</summary>
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
        ];
        var clock = Stopwatch.StartNew();
        while (expected.Any(name => !collector.Metrics.Contains(name, StringComparison.Ordinal)) || collector.TraceExports == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15),
                $"missing after 15 s: {string.Join(", ", expected.Where(name => !collector.Metrics.Contains(name, StringComparison.Ordinal)))}; trace exports {collector.TraceExports}");
            await Task.Delay(200);
        }
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

    /// <summary>Accepts OTLP/HTTP exports; protobuf keeps metric names and attribute values as plain UTF-8.</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<string> _metrics = new();
        private readonly ConcurrentQueue<string> _traces = new();
        private int _traceExports;

        private OtlpCollector(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public string Metrics => string.Concat(_metrics);

        public int TraceExports => Volatile.Read(ref _traceExports);

        public string Traces => string.Concat(_traces);

        public static async Task<OtlpCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var collector = new OtlpCollector(app);
            app.MapPost("/v1/metrics", async (HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                collector._metrics.Enqueue(Encoding.UTF8.GetString(body.ToArray()));
                return Results.Ok();
            });
            app.MapPost("/v1/traces", async (HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                if (body.Length > 0)
                {
                    collector._traces.Enqueue(Encoding.UTF8.GetString(body.ToArray()));
                    Interlocked.Increment(ref collector._traceExports);
                }

                return Results.Ok();
            });
            await app.StartAsync();
            collector.Port = new Uri(app.Urls.First()).Port;
            return collector;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
