using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>SIGTERM to a real gateway process, as Kubernetes sends on a rollout.</summary>
public sealed class ShutdownTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task Sigterm_lets_requests_in_flight_finish_closes_websockets_with_1001_and_exits_0()
    {
        var sid = await env.RouteAsync(env.A);
        await using var gateway = GatewayProcess.Start(("Gateway__Redis__Configuration", env.Redis.Configuration));
        await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/healthz", UriKind.Relative)));

        // The page first, as a browser loads it: the route is cached and the editor's socket takes the fast path.
        using (await gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative)))
        {
        }

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

    // Behind a load balancer that probes /readyz: the replica leaves its rotation before anything is refused or
    // closed, and the editors, told 1001 only then, reconnect through the balancer to another replica.
    [Fact]
    public async Task With_a_shutdown_delay_sigterm_turns_readiness_off_first_and_keeps_serving_until_the_delay_ends()
    {
        var sid = await env.RouteAsync(env.A);
        await using var gateway = GatewayProcess.Start(
            ("Gateway__Redis__Configuration", env.Redis.Configuration), ("Gateway__Forwarding__ShutdownDelay", "00:00:03"));
        await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/readyz", UriKind.Relative)));
        using (await gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative)))
        {
        }

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{gateway.Client.BaseAddress!.Authority}/ws/{sid}/socket"), CancellationToken.None);
        var closed = socket.ReceiveAsync(new byte[256], CancellationToken.None);

        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", gateway.Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await Eventually.TrueAsync(
            async () => (await gateway.Client.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode == HttpStatusCode.ServiceUnavailable,
            "not ready soon after SIGTERM",
            TimeSpan.FromSeconds(1));

        // Still served and still accepting, on a new connection too, while the balancer takes it out.
        using (var fresh = new HttpClient { BaseAddress = gateway.Client.BaseAddress })
        using (var during = await fresh.GetAsync(new Uri($"/ws/{sid}/who", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, during.StatusCode);
        }

        Assert.False(closed.IsCompleted, $"the WebSocket was closed {clock.ElapsedMilliseconds} ms after SIGTERM, inside the delay");
        var close = await closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(6));

        await gateway.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(0, gateway.Process.ExitCode);
    }

    // An open page holds event streams (the platform's list, the start page) that never end on their own: they
    // are ended at SIGTERM, so the gateway exits in moments instead of after its whole drain time.
    [Fact]
    public async Task Sigterm_ends_open_event_streams_at_once_and_exits_well_inside_the_drain_time()
    {
        var sid = await env.RouteAsync(env.A);
        await using var gateway = GatewayProcess.Start(("Gateway__Redis__Configuration", env.Redis.Configuration));
        await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/healthz", UriKind.Relative)));
        env.A.ResetSignals();

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/sse");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("data: first", await events.ReadLineAsync());

        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", gateway.Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        // The rest of the stream: nothing more, ended (or cut) within moments, never "data: second".
        string rest;
        try
        {
            rest = await events.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (IOException)
        {
            rest = "";
        }

        var endedAfter = clock.Elapsed;
        await gateway.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var exitedAfter = clock.Elapsed;

        Assert.DoesNotContain("second", rest, StringComparison.Ordinal);
        Assert.True(endedAfter < TimeSpan.FromSeconds(2), $"the event stream ended {endedAfter.TotalMilliseconds:F0} ms after SIGTERM");
        Assert.True(exitedAfter < TimeSpan.FromSeconds(5), $"exited {exitedAfter.TotalSeconds:F1} s after SIGTERM (drain time 30 s)");
        Assert.Equal(0, gateway.Process.ExitCode);
    }

    // VS Code retries a closed connection at once (its first reconnect has no delay): a tunnel opened after the
    // 1001s went out would be in flight until the drain time ended, and ./run.sh's 15 s wait killed the gateway.
    [Fact]
    public async Task Sigterm_refuses_websockets_reopened_after_the_1001_and_exits_well_inside_the_drain_time()
    {
        var sid = await env.RouteAsync(env.A);
        await using var gateway = GatewayProcess.Start(("Gateway__Redis__Configuration", env.Redis.Configuration));
        await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/healthz", UriKind.Relative)));
        var address = new Uri($"ws://{gateway.Client.BaseAddress!.Authority}/ws/{sid}/socket");
        using (await gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative)))
        {
        }

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(address, CancellationToken.None);
        Assert.Equal("A:hi", await socket.EchoAsync("hi"));

        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", gateway.Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        var close = await socket.ReceiveAsync(new byte[256], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);

        // Reconnect as the editor does, until the gateway no longer accepts connections at all.
        var answers = new List<string>();
        var reopened = new List<ClientWebSocket>();
        while (!gateway.Process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            var retry = new ClientWebSocket { Options = { CollectHttpResponseDetails = true } };
            try
            {
                await retry.ConnectAsync(address, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
                reopened.Add(retry);
                answers.Add("open");
            }
            catch (Exception ex) when (ex is WebSocketException or TimeoutException)
            {
                answers.Add(retry.HttpStatusCode == 0 ? "refused" : ((int)retry.HttpStatusCode).ToString(CultureInfo.InvariantCulture));
                retry.Dispose();
            }

            await Task.Delay(50);
        }

        // Each retry is refused with 503 until the listener closes, then cannot connect at all (which comes
        // first is a race of the shutdown's own).
        try
        {
            await gateway.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"still running 10 s after SIGTERM; reconnects: {string.Join(", ", answers)}");
        }
        finally
        {
            reopened.ForEach(r => r.Dispose());
        }

        var exitedAfter = clock.Elapsed;
        Assert.DoesNotContain("open", answers);
        Assert.All(answers, answer => Assert.True(answer is "503" or "refused", answer));
        Assert.True(exitedAfter < TimeSpan.FromSeconds(5), $"exited {exitedAfter.TotalSeconds:F1} s after SIGTERM (drain time 30 s); reconnects: {string.Join(", ", answers)}");
        Assert.Equal(0, gateway.Process.ExitCode);
    }

    // A load balancer's connection carries its own probes (Kestrel's, behind the fast path) and then a request the
    // fast path hands over with the rest of the connection. Idle at SIGTERM, it must end as quietly as any other:
    // an error in the log at every rolling restart would page someone for nothing.
    [Fact]
    public async Task Sigterm_ends_a_connection_handed_to_Kestrel_without_an_error_in_the_log()
    {
        await using var gateway = GatewayProcess.Start(("Gateway__Redis__Configuration", env.Redis.Configuration));
        await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/healthz", UriKind.Relative)));
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(gateway.Client.BaseAddress!.Host, gateway.Client.BaseAddress.Port);
        var stream = client.GetStream();
        var host = gateway.Client.BaseAddress.Authority;
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\nPOST /nowhere HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\n\r\nhi"));
        var answers = "";
        var buffer = new byte[4096];
        while (System.Text.RegularExpressions.Regex.Count(answers, "HTTP/1.1 ") < 2)
        {
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read > 0, $"closed after: {answers}");
            answers += System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        }

        using (var kill = Process.Start("kill", ["-TERM", gateway.Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await gateway.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        // The rest of the second answer's body, then the end of the connection.
        while (await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5)) > 0)
        {
        }

        Assert.DoesNotContain(gateway.LogEntries, entry => entry.Level is "Error" or "Critical");
        Assert.Equal(0, gateway.Process.ExitCode);
    }
}
