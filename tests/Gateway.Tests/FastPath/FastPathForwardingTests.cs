using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.FastPath;

/// <summary>
/// The connection-level fast path in the real gateway, between a real client and real Kestrel workspaces: what
/// it takes it forwards as the YARP way would, and everything else (or anything that goes wrong before the client
/// has a byte) is served the YARP way on the same connection.
/// </summary>
public sealed class FastPathForwardingTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task A_keep_alive_GET_is_forwarded_by_the_fast_path_with_the_fields_the_YARP_way_sends()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/some/path?x=1&y=%2F");
        request.Headers.Add("Cookie", "app=1; gw_session=theirs; other=2");
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        request.Headers.Add("X-Custom", "kept");

        using var response = await env.Gateway.Client.SendAsync(request);
        var echo = TestBackend.ParseEcho(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, counted.Count);
        Assert.Equal("/some/path?x=1&y=%2F", echo.RawTarget);
        Assert.Equal("127.0.0.1", echo.Headers["x-forwarded-for"]);
        Assert.Equal("http", echo.Headers["x-forwarded-proto"]);
        Assert.Equal(env.Gateway.Address.Authority, echo.Headers["x-forwarded-host"]);
        Assert.Equal(env.Gateway.Address.Authority, echo.Headers["host"]);
        Assert.Equal($"/ws/{sid}", echo.Headers["x-forwarded-prefix"]);
        Assert.Equal("app=1; other=2", echo.Headers["cookie"]);
        Assert.Equal("kept", echo.Headers["x-custom"]);
        Assert.True(response.Headers.Date is not null, "a Date field, as Kestrel adds one");
    }

    [Fact]
    public async Task Answers_framed_by_length_by_chunks_and_without_a_body_arrive_whole()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);

        var large = await env.Gateway.Client.GetByteArrayAsync(new Uri($"/ws/{sid}/random/1048576", UriKind.Relative));
        Assert.Equal(TestBackend.RandomBody(1 << 20), large);

        // The echo is written as JSON without a length: chunked.
        using (var chunked = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/chunked", UriKind.Relative)))
        {
            Assert.True(chunked.Headers.TransferEncodingChunked);
            Assert.Equal("/chunked", TestBackend.ParseEcho(await chunked.Content.ReadAsStringAsync()).RawTarget);
        }

        // The answer to a HEAD has no body, whatever its fields say: the next answer follows at once.
        using (var head = await env.Gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/ws/{sid}/headed")))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        using (var missing = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/status/404", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("A answered 404", await missing.Content.ReadAsStringAsync());
        }

        Assert.Equal(4, counted.Count);
    }

    [Theory]
    [InlineData(20_000, 1)] // longer than the first read's buffer: it grows
    [InlineData(40_000, 0)] // longer than the fast path relays: the YARP way answers
    public async Task An_answer_with_a_long_head_arrives_whole(int headBytes, int viaFastPath)
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);

        // A connection of its own: after an answer the fast path leaves to Kestrel with a head too long to relay
        // as framed, the rest of that connection is Kestrel's.
        using var client = env.Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri($"/ws/{sid}/head/{headBytes}", UriKind.Relative));

        Assert.Equal(new string('h', headBytes), response.Headers.GetValues("X-Long").Single());
        Assert.Equal("after a long head", await response.Content.ReadAsStringAsync());
        Assert.Equal(viaFastPath, counted.Count);
    }

    [Fact]
    public async Task A_request_it_does_not_take_is_served_the_YARP_way_and_the_connection_goes_on()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);
        var connects = 0;
        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseCookies = false,
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, token) =>
            {
                Interlocked.Increment(ref connects);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { BaseAddress = env.Gateway.Address };

        Assert.Equal("A", await client.BackendOfAsync(sid));
        using (var upload = await client.PostAsync(new Uri($"/ws/{sid}/upload", UriKind.Relative), new ByteArrayContent(new byte[100_000])))
        {
            Assert.Equal("100000", await upload.Content.ReadAsStringAsync());
        }

        Assert.Equal("A", await client.BackendOfAsync(sid));
        Assert.Equal(1, Volatile.Read(ref connects));
        Assert.Equal(1, counted.Count);
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_order_across_the_hand_over()
    {
        var sid = await env.RouteCachedAsync(env.A);
        var host = env.Gateway.Address.Authority;
        var request = Encoding.ASCII.GetBytes(
            $"GET /ws/{sid}/first HTTP/1.1\r\nHost: {host}\r\n\r\n" +
            $"GET /ws/{sid}/second HTTP/1.1\r\nHost: {host}\r\n\r\n" +
            $"GET /ws/{sid}/third HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");

        var exchange = await RawHttpExchange.SendAsync(env.Gateway.Address.Port, request, TimeSpan.FromSeconds(10));

        Assert.Equal([200, 200, 200], exchange.Statuses);
        var first = exchange.Text.IndexOf("\"/first\"", StringComparison.Ordinal);
        var second = exchange.Text.IndexOf("\"/second\"", StringComparison.Ordinal);
        var third = exchange.Text.IndexOf("\"/third\"", StringComparison.Ordinal);
        Assert.True(first >= 0 && first < second && second < third, exchange.Text);
    }

    [Fact]
    public async Task A_workspace_that_cannot_be_reached_is_answered_502_once()
    {
        var sid = await env.RouteCachedAsync(env.A);
        await env.Writer.SetRouteAsync(sid, $"127.0.0.1:{FreePort.Next()}");
        await env.Writer.PublishAsync(sid);
        await Eventually.TrueAsync(async () =>
        {
            using var probe = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
            return probe.StatusCode == HttpStatusCode.BadGateway;
        }, "the dead address answers 502");

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/page");
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("workspace_unreachable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workspace_that_does_not_answer_in_time_is_answered_504_after_one_timeout()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);
        var clock = Stopwatch.StartNew();

        using var response = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/slow", UriKind.Relative));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);

        // The fixture's activity timeout is 2 s; the request was not sent a second time for another 2 s
        // (the heartbeat checks once a second).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3.9), $"answered after {clock.Elapsed}");
        Assert.Equal(0, counted.Count);
    }

    [Fact]
    public async Task An_answer_cut_short_by_the_workspace_ends_the_client_connection()
    {
        var sid = await env.RouteCachedAsync(env.A);

        var cut = await RawHttpExchange.SendAsync(
            env.Gateway.Address.Port, Encoding.ASCII.GetBytes($"GET /ws/{sid}/cut HTTP/1.1\r\nHost: {env.Gateway.Address.Authority}\r\n\r\n"), TimeSpan.FromSeconds(10));

        // The head and what came of the body, then the connection closed: never a complete-looking answer.
        Assert.Equal([200], cut.Statuses);
        Assert.Contains("Content-Length: 1000", cut.Text, StringComparison.OrdinalIgnoreCase);
        Assert.True(cut.Elapsed < TimeSpan.FromSeconds(9), "the gateway closed the connection");
        Assert.True(cut.Text.Length - cut.Text.IndexOf("\r\n\r\n", StringComparison.Ordinal) - 4 < 1000);
    }

    [Fact]
    public async Task A_kept_connection_the_workspace_closed_just_after_answering_is_replaced_without_an_error()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);

        using (var first = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/then-close", UriKind.Relative)))
        {
            Assert.Equal("done", await first.Content.ReadAsStringAsync());
        }

        // At once: the kept connection is handed out unchecked, fails, and the request goes again on a new one.
        Assert.Equal("A", await env.Gateway.Client.BackendOfAsync(sid));
        Assert.Equal(2, counted.Count);
    }

    [Fact]
    public async Task Bytes_a_workspace_sends_past_its_answer_reach_no_one_and_its_connection_is_not_used_again()
    {
        // A workspace that follows each answer with a second one nobody asked for, in the same write.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync();
                Interlocked.Increment(ref accepted);
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        var stream = client.GetStream();
                        var buffer = new byte[8192];
                        while (await stream.ReadAsync(buffer) > 0)
                        {
                            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndoneHTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Smuggled: 1\r\n\r\nsmuggl"u8.ToArray());
                        }
                    }
                });
            }
        });
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        // No PUBLISH, as RouteCachedAsync: a notice arriving after the warm-up would drop the route from the cache and
        // send one of the requests below the YARP way.
        await env.Writer.SetRouteAsync(sid, $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        await Eventually.TrueAsync(async () =>
        {
            using var probe = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
            return probe.StatusCode == HttpStatusCode.OK;
        }, "the new address answers 200");
        var before = Volatile.Read(ref accepted);
        using var counted = new FastPathRequests(env.Gateway.Services);

        for (var i = 0; i < 3; i++)
        {
            using var response = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/again", UriKind.Relative));
            Assert.Equal("done", await response.Content.ReadAsStringAsync());
            Assert.False(response.Headers.Contains("X-Smuggled"));
        }

        Assert.Equal(3, counted.Count);
        Assert.Equal(before + 3, Volatile.Read(ref accepted));
    }

    [Fact]
    public async Task A_workspace_cannot_set_the_gateway_session_cookie_or_its_HSTS()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);

        using var cookies = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/set-cookie", UriKind.Relative));
        using var hsts = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/hsts", UriKind.Relative));

        Assert.Equal(["app=1; Path=/"], cookies.Headers.GetValues("Set-Cookie"));
        Assert.False(hsts.Headers.Contains("Strict-Transport-Security"));
        Assert.Equal(2, counted.Count);
    }

    [Fact]
    public async Task A_moved_workspace_is_reached_at_its_new_address()
    {
        var sid = await env.RouteCachedAsync(env.A);
        Assert.Equal("A", await env.Gateway.Client.BackendOfAsync(sid));

        await env.RouteAsync(env.B, sid);

        await Eventually.TrueAsync(async () => await env.Gateway.Client.BackendOfAsync(sid) == "B", "the route moves to B");
        using var counted = new FastPathRequests(env.Gateway.Services);
        Assert.Equal("B", await env.Gateway.Client.BackendOfAsync(sid));
        Assert.Equal(1, counted.Count);
    }

    [Fact]
    public async Task The_workbench_page_and_event_streams_go_the_YARP_way()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);

        using var page = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/");
        page.Headers.Accept.ParseAdd("text/html");
        using var pageResponse = await env.Gateway.Client.SendAsync(page);
        Assert.Contains("workbench-notice.js", await pageResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var script = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/_cloud-ide/workbench-notice.js", UriKind.Relative));
        Assert.Equal("text/javascript; charset=utf-8", script.Content.Headers.ContentType?.ToString());

        Assert.Equal(0, counted.Count);
    }

    [Fact]
    public async Task A_trusted_load_balancers_requests_take_the_fast_path_with_its_forwarding_fields_extended()
    {
        await using var gateway = await GatewayHost.StartAsync(env.Redis, "--Gateway:Forwarding:TrustedProxies:0=127.0.0.2/32");
        var sid = await env.RouteResolvedAsync(env.A.Address, gateway);
        using var counted = new FastPathRequests(gateway.Services);
        using var balancer = gateway.CreateClientFrom(IPAddress.Parse("127.0.0.2"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/behind");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "ide.example.com");

        using var response = await balancer.SendAsync(request);
        var echo = TestBackend.ParseEcho(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("203.0.113.7, 127.0.0.2", echo.Headers["x-forwarded-for"]);
        Assert.Equal("https", echo.Headers["x-forwarded-proto"]);
        Assert.Equal("ide.example.com", echo.Headers["x-forwarded-host"]);
        Assert.Equal(1, counted.Count);

        // Anyone else's are replaced, on the same gateway.
        using var direct = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/direct");
        direct.Headers.Add("X-Forwarded-For", "203.0.113.7");
        using var directResponse = await gateway.Client.SendAsync(direct);
        Assert.Equal("127.0.0.1", TestBackend.ParseEcho(await directResponse.Content.ReadAsStringAsync()).Headers["x-forwarded-for"]);
        Assert.Equal(2, counted.Count);
    }

    [Fact]
    public async Task A_WebSocket_is_carried_by_the_fast_path_as_a_tunnel_until_it_closes()
    {
        var sid = await env.RouteCachedAsync(env.A);
        var tunnels = env.Gateway.Services.GetRequiredService<Gateway.Forwarding.OpenTunnels>();
        var fastPath = env.Gateway.Services.GetRequiredService<Gateway.FastPath.FastPathMiddleware>();
        var tunnelsBefore = tunnels.Count;
        using var counted = new FastPathRequests(env.Gateway.Services);

        using (var socket = new ClientWebSocket())
        {
            await socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None);
            Assert.Equal("A:ping", await socket.EchoAsync("ping"));
            Assert.Equal("A:" + new string('x', 1000), await socket.EchoAsync(new string('x', 1000)));
            Assert.Equal(1, counted.Count);
            Assert.Equal(tunnelsBefore + 1, tunnels.Count);

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        }

        // Nothing of it is left: no tunnel, no socket to the workspace.
        await Eventually.TrueAsync(() => Task.FromResult(tunnels.Count == tunnelsBefore), "the tunnels end");
        await Eventually.TrueAsync(() => Task.FromResult(fastPath.OpenWorkspaceConnections <= 1), "the workspace connections close");
    }

    [Fact]
    public async Task A_WebSocket_handshake_the_workspace_refuses_is_answered_as_it_was_and_the_connection_goes_on()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var counted = new FastPathRequests(env.Gateway.Services);
        var host = env.Gateway.Address.Authority;
        var request = Encoding.ASCII.GetBytes(
            $"GET /ws/{sid}/status/403 HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" +
            $"GET /ws/{sid}/after HTTP/1.1\r\nHost: {host}\r\n\r\n" +
            $"GET /ws/{sid}/last HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");

        var exchange = await RawHttpExchange.SendAsync(env.Gateway.Address.Port, request, TimeSpan.FromSeconds(10));

        // The 403's body, then the next answer at once (no line break between them: not a status line to a regex).
        Assert.StartsWith("HTTP/1.1 403 ", exchange.Text, StringComparison.Ordinal);
        Assert.Contains("A answered 403HTTP/1.1 200 OK\r\n", exchange.Text, StringComparison.Ordinal);
        Assert.Contains("\"/after\"", exchange.Text, StringComparison.Ordinal);
        Assert.Equal(2, counted.Count);
    }
}
