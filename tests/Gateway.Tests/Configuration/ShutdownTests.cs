using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>SIGTERM to a real gateway process, as Kubernetes sends on a rollout (issue #4).</summary>
public sealed class ShutdownTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task Sigterm_lets_requests_in_flight_finish_closes_websockets_with_1001_and_exits_0()
    {
        var sid = await env.RouteAsync(env.A);
        await using var gateway = GatewayProcess.Start(("Gateway__Redis__Configuration", env.Redis.Configuration));
        await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/healthz", UriKind.Relative)));

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{gateway.Client.BaseAddress!.Authority}/ws/{sid}/socket"), CancellationToken.None);
        Assert.Equal("A:hi", await socket.EchoAsync("hi"));
        var buffer = new byte[256];

        // The backend's /slow answers after 5 s: it is in flight when the signal arrives.
        var slow = gateway.Client.GetAsync(new Uri($"/ws/{sid}/slow", UriKind.Relative));
        await Task.Delay(500);

        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", gateway.Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        WebSocketReceiveResult close;
        try
        {
            close = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            Assert.Fail(string.Join('\n', gateway.Output));
            throw;
        }

        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        var closedAfter = clock.Elapsed;

        using var response = await slow;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("late", await response.Content.ReadAsStringAsync());

        try
        {
            await gateway.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            Assert.Fail("still running 15 s after SIGTERM:\n" + string.Join('\n', gateway.Output));
        }

        Assert.Equal(0, gateway.Process.ExitCode);
        Assert.True(closedAfter < TimeSpan.FromSeconds(2), $"WebSocket closed {closedAfter.TotalMilliseconds:F0} ms after SIGTERM");
    }
}
