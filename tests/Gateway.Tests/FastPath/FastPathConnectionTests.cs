using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.FastPath;

/// <summary>
/// What Kestrel does for the connections it reads, the fast path does for the ones it serves: a client idle past
/// the keep-alive timeout is let go, and an idle connection ends at once when the gateway stops.
/// </summary>
public sealed class FastPathConnectionTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task A_client_idle_past_the_keep_alive_timeout_is_let_go()
    {
        await using var gateway = await GatewayHost.StartAsync(env.Redis, "--Gateway:Limits:KeepAliveTimeout=00:00:02");
        var sid = await RoutedAsync(gateway);
        using var counted = new FastPathRequests(gateway.Services);

        // One request, then nothing: the gateway closes the connection (RawHttpExchange reads until it does).
        var exchange = await RawHttpExchange.SendAsync(
            gateway.Address.Port, Encoding.ASCII.GetBytes($"GET /ws/{sid}/idle HTTP/1.1\r\nHost: {gateway.Address.Authority}\r\n\r\n"), TimeSpan.FromSeconds(15));

        Assert.Equal([200], exchange.Statuses);
        Assert.Equal(1, counted.Count);
        Assert.True(exchange.Elapsed > TimeSpan.FromSeconds(1.5) && exchange.Elapsed < TimeSpan.FromSeconds(8), $"closed after {exchange.Elapsed}");
    }

    [Fact]
    public async Task An_idle_connection_ends_at_once_when_the_gateway_stops()
    {
        var gateway = await GatewayHost.StartAsync(env.Redis);
        var sid = await RoutedAsync(gateway);
        using var counted = new FastPathRequests(gateway.Services);
        using var client = new TcpClient();
        await client.ConnectAsync(gateway.Address.Host, gateway.Address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /ws/{sid}/random/10 HTTP/1.1\r\nHost: {gateway.Address.Authority}\r\n\r\n"));
        var buffer = new byte[4096];
        var received = 0;
        while (!Encoding.ASCII.GetString(buffer, 0, received).Contains("\r\n\r\n", StringComparison.Ordinal) || received < 10)
        {
            received += await stream.ReadAsync(buffer.AsMemory(received));
        }

        Assert.Equal(1, counted.Count);

        // Kestrel waits for connections to end until its stop is cancelled (2 s here), then aborts them.
        var clock = Stopwatch.StartNew();
        await gateway.DisposeAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"stopped after {clock.Elapsed}");
        var rest = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, rest);
    }

    [Fact]
    public async Task A_head_that_comes_in_parts_is_served_by_the_fast_path_and_the_connection_goes_on()
    {
        var sid = await RoutedAsync(env.Gateway);
        using var counted = new FastPathRequests(env.Gateway.Services);
        var host = env.Gateway.Address.Authority;
        var head = Encoding.ASCII.GetBytes($"GET /ws/{sid}/first HTTP/1.1\r\nHost: {host}\r\nX-Padding: {new string('p', 3000)}\r\n\r\n");
        var next = Encoding.ASCII.GetBytes($"GET /ws/{sid}/second HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");

        // As a head larger than one TCP segment arrives: in pieces, with pauses between them.
        var exchange = await RawHttpExchange.SendAsync(env.Gateway.Address.Port, [], TimeSpan.FromSeconds(10), async (stream, token) =>
        {
            foreach (var piece in head.Chunk(1448))
            {
                await stream.WriteAsync(piece, token);
                await Task.Delay(100, token);
            }

            await stream.WriteAsync(next, token);
        });

        Assert.Equal([200, 200], exchange.Statuses);
        Assert.Contains("\"/first\"", exchange.Text, StringComparison.Ordinal);
        Assert.Equal(1, counted.Count); // the second closes, which the fast path leaves to Kestrel
    }

    [Fact]
    public async Task A_head_that_never_completes_is_ended_after_the_request_headers_timeout()
    {
        await using var gateway = await GatewayHost.StartAsync(env.Redis, "--Gateway:Limits:RequestHeadersTimeout=00:00:01");
        var sid = await RoutedAsync(gateway);

        var exchange = await RawHttpExchange.SendAsync(
            gateway.Address.Port, Encoding.ASCII.GetBytes($"GET /ws/{sid}/slow HTTP/1.1\r\nHost: {gateway.Address.Authority}\r\nX-Never"), TimeSpan.FromSeconds(15));

        // Kestrel's answer to a head too slow (408, or a close), within twice the timeout and the heartbeats.
        Assert.True(exchange.Statuses is [] or [408], exchange.Text);
        Assert.True(exchange.Elapsed > TimeSpan.FromSeconds(0.9) && exchange.Elapsed < TimeSpan.FromSeconds(8), $"ended after {exchange.Elapsed}");
    }

    private async Task<string> RoutedAsync(GatewayHost gateway)
    {
        // No PUBLISH: a notice arriving after the warm-up would drop the route from the cache again.
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await env.Writer.SetRouteAsync(sid, env.A.Address);
        await RedisSentinelGroup.WaitUntilAsync(
            async () => await gateway.Client.BackendOfAsync(sid) == "A", "the route is cached", TimeSpan.FromSeconds(10));
        return sid;
    }
}
