using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gateway.Forwarding;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Forwarding;

/// <summary>Upgraded connections end when their workspace dies, stops or moves, and leave nothing behind.</summary>
public sealed class TunnelLifetimeTests(GatewayWithBackends env) : TunnelLifetimeTests<GatewayWithBackends>(env);

/// <summary>The same, every tunnel through Kestrel, YARP and the gateway's relay.</summary>
public sealed class TunnelLifetimeTestsThroughYarp(YarpGatewayWithBackends env) : TunnelLifetimeTests<YarpGatewayWithBackends>(env);

public abstract class TunnelLifetimeTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : GatewayWithBackends
{
    private OpenTunnels Tunnels => env.Gateway.Services.GetRequiredService<OpenTunnels>();

    // Sockets to workspaces, of the YARP way's client and of the fast path.
    private int WorkspaceSockets =>
        env.Gateway.Services.GetRequiredService<WorkspaceHttpClient>().OpenConnections
        + env.Gateway.Services.GetRequiredService<Gateway.FastPath.FastPathMiddleware>().OpenWorkspaceConnections;

    [Fact]
    public async Task A_moved_workspace_has_its_tunnels_closed_within_a_second_and_the_client_reconnects_to_the_new_pod()
    {
        var sid = await env.RouteResolvedAsync(env.A.Address);
        using var socket = await ConnectAsync(sid);
        Assert.Equal("A:ping", await socket.EchoAsync("ping"));

        await env.Writer.SetRouteAsync(sid, env.B.Address);
        var clock = Stopwatch.StartNew();
        await env.Writer.PublishAsync(sid);

        await AssertClosedAsync(socket, TimeSpan.FromSeconds(1));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"closed after {clock.Elapsed.TotalMilliseconds:F0} ms");

        using var again = await ConnectAsync(sid);
        Assert.Equal("B:ping", await again.EchoAsync("ping"));
    }

    // A close frame with the reason, not a cut connection: the editor logs why and reconnects at once.
    [Theory]
    [InlineData(false, "The workspace was stopped")]
    [InlineData(true, "The workspace moved; reconnect")]
    public async Task A_stopped_or_moved_workspace_tells_its_websockets_why(bool moved, string expected)
    {
        var sid = await env.RouteResolvedAsync(env.A.Address);
        using var socket = await ConnectAsync(sid);
        Assert.Equal("A:ping", await socket.EchoAsync("ping"));

        await (moved ? env.Writer.SetRouteAsync(sid, env.B.Address) : env.Writer.RemoveRouteAsync(sid));
        await env.Writer.PublishAsync(sid);

        var (status, reason) = await socket.CloseReceivedAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.Equal(expected, reason);
    }

    [Fact]
    public async Task An_editor_that_vanishes_without_closing_is_reported_to_the_browser_with_a_reason()
    {
        var sid = await env.RouteResolvedAsync(env.A.Address);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket-dies"), CancellationToken.None);
        var buffer = new byte[64];
        await socket.ReceiveAsync(buffer, CancellationToken.None);

        // The workspace drops the connection with no close frame, as a crashed editor does.
        await socket.SendAsync("die"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        var (status, reason) = await socket.CloseReceivedAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.Equal("The workspace's editor went away", reason);
    }

    // The operator removes the route, then stops the editor; the gateway can see the editor's exit before it
    // hears of the route. A stop the user asked for must not be shown as a crash.
    [Fact]
    public async Task An_editor_that_exits_just_before_its_route_goes_is_reported_as_stopped()
    {
        var sid = await env.RouteResolvedAsync(env.A.Address);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket-dies"), CancellationToken.None);
        await socket.ReceiveAsync(new byte[64], CancellationToken.None);

        await socket.SendAsync("die"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        await Task.Delay(200);
        await env.Writer.RemoveRouteAsync(sid);
        await env.Writer.PublishAsync(sid);

        var (status, reason) = await socket.CloseReceivedAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.Equal("The workspace was stopped", reason);
    }

    [Fact]
    public async Task A_republished_but_unchanged_route_keeps_the_session()
    {
        var sid = await env.RouteResolvedAsync(env.A.Address);
        using var socket = await ConnectAsync(sid);
        var other = await env.RouteResolvedAsync(env.A.Address);
        using var bystander = await ConnectAsync(other);

        await env.Writer.PublishAsync(sid);
        await env.Writer.PublishAsync("*");
        await Task.Delay(500);

        Assert.Equal("A:still here", await socket.EchoAsync("still here"));
        Assert.Equal("A:me too", await bystander.EchoAsync("me too"));
    }

    [Fact]
    public async Task A_workspace_dying_mid_session_closes_the_browser_socket_and_new_requests_fail_fast()
    {
        await using var doomed = await TestBackend.StartAsync("doomed");
        var sid = await env.RouteResolvedAsync(doomed.Address);
        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < 5; i++)
        {
            sockets.Add(await ConnectAsync(sid));
        }

        Assert.Equal("doomed:ping", await sockets[0].EchoAsync("ping"));
        await doomed.DisposeAsync();

        foreach (var socket in sockets)
        {
            await AssertClosedAsync(socket, TimeSpan.FromSeconds(5));
            socket.Dispose();
        }

        var clock = Stopwatch.StartNew();
        using var response = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"502 after {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Thousands_of_sessions_ended_by_their_workspace_leave_no_tunnels_or_sockets_behind()
    {
        var sid = await env.RouteResolvedAsync(env.A.Address);
        var tunnelsBefore = Tunnels.Count;
        var socketsBefore = WorkspaceSockets;

        const int Sessions = 2000;
        var seen = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Sessions), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (_, cancellationToken) =>
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket-dies"), cancellationToken);
            var buffer = new byte[64];
            var hello = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            if (Encoding.UTF8.GetString(buffer, 0, hello.Count) == "hello")
            {
                Interlocked.Increment(ref seen);
            }

            await socket.SendAsync("die"u8.ToArray(), WebSocketMessageType.Text, true, cancellationToken);
            await AssertClosedAsync(socket, TimeSpan.FromSeconds(10));
        });

        Assert.Equal(Sessions, seen);
        await Eventually.TrueAsync(() => Tunnels.Count == tunnelsBefore && WorkspaceSockets <= socketsBefore,
            () => $"tunnels {Tunnels.Count} (before {tunnelsBefore}), workspace sockets {WorkspaceSockets} (before {socketsBefore})", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_tunnel_idle_past_the_websocket_idle_timeout_is_closed_and_one_in_use_is_not()
    {
        await using var gateway = await GatewayHost.StartAsync(env.Redis, ["--Gateway:Forwarding:WebSocketIdleTimeout=00:00:01", .. env.ForwardingArguments]);
        var sid = await env.RouteResolvedAsync(env.A.Address, gateway);
        using var idle = await ConnectAsync(sid, gateway);
        using var busy = await ConnectAsync(sid, gateway);
        Assert.Equal("A:ping", await idle.EchoAsync("ping"));

        // Three idle timeouts' worth of a conversation with a pause shorter than the timeout.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            Assert.Equal("A:tick", await busy.EchoAsync("tick"));
            await Task.Delay(300);
        }

        await AssertClosedAsync(idle, TimeSpan.FromSeconds(0.5));
        Assert.Equal("A:still here", await busy.EchoAsync("still here"));
    }

    [Fact]
    public async Task A_workspace_that_never_answers_an_upgrade_gets_504_after_the_http_activity_timeout()
    {
        // Accepts the connection and never says a word: the idle timeout of a tunnel (1 h) starts only
        // once the workspace has switched protocols.
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var sid = await env.RouteResolvedAsync($"127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}");

        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None));

        Assert.Equal(HttpStatusCode.GatewayTimeout, socket.HttpStatusCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
    }

    private async Task<ClientWebSocket> ConnectAsync(string sid, GatewayHost? gateway = null)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync((gateway ?? env.Gateway).WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None);
        return socket;
    }

    /// <summary>The browser's view: the socket ends (a close or an aborted connection), it does not hang.</summary>
    private static async Task AssertClosedAsync(ClientWebSocket socket, TimeSpan within)
    {
        var buffer = new byte[1024];
        using var deadline = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, deadline.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (WebSocketException)
        {
            // Connection closed without a close frame: what a browser reports as 1006.
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Assert.Fail($"the WebSocket was still open after {within.TotalMilliseconds:F0} ms");
        }
    }
}
