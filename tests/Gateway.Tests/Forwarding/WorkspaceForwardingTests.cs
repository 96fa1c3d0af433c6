using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Forwarding;

/// <summary>With the gateway's defaults: the fast path serves what it takes, the YARP way the rest.</summary>
public sealed class WorkspaceForwardingTests(GatewayWithBackends env) : WorkspaceForwardingTests<GatewayWithBackends>(env);

/// <summary>The same with the fast path off: every request the YARP way, which the fast path must match.</summary>
public sealed class WorkspaceForwardingTestsThroughYarp(YarpGatewayWithBackends env) : WorkspaceForwardingTests<YarpGatewayWithBackends>(env);

public abstract class WorkspaceForwardingTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : GatewayWithBackends
{
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private HttpClient Client => env.Gateway.Client;

    [Fact]
    public async Task The_prefix_is_stripped_and_the_rest_of_the_target_arrives_byte_for_byte()
    {
        var sid = await env.RouteAsync(env.A);
        const string rest = "/a%20b/%41%2Fc/./d%C3%A9?x=%2F&y=1+2&z&%26=%3D";

        var echo = await GetEchoAsync($"/ws/{sid}{rest}");

        Assert.Equal("A", echo.Backend);
        Assert.Equal(rest, echo.RawTarget);
    }

    [Fact]
    public async Task The_workspace_root_is_forwarded_as_slash()
    {
        var sid = await env.RouteAsync(env.A);
        Assert.Equal("/", (await GetEchoAsync($"/ws/{sid}/")).RawTarget);
        Assert.Equal("/?folder=/user_data/workspace", (await GetEchoAsync($"/ws/{sid}/?folder=/user_data/workspace")).RawTarget);
    }

    [Fact]
    public async Task Dot_segments_cannot_reach_another_workspace_than_the_normalised_path_names()
    {
        var mine = await env.RouteAsync(env.A);
        var other = await env.RouteAsync(env.B);

        foreach (var trick in new[] { $"/ws/{mine}/../{other}/x", $"/ws/{mine}/%2e%2e/{other}/x", $"/ws/{mine}/a/%2E%2E/%2E%2E/{other}/x" })
        {
            var echo = await GetEchoAsync(trick);
            // The browser would have normalised the same way: the request is the other workspace's, sent as /x.
            Assert.Equal("B", echo.Backend);
            Assert.Equal("/x", echo.Path);
        }
    }

    [Fact]
    public async Task A_sid_without_trailing_slash_redirects_and_keeps_the_query()
    {
        var sid = await env.RouteAsync(env.A);
        var before = env.A.Requests;

        using var response = await Client.GetAsync(new Uri($"/ws/{sid}?folder=%2Fx", UriKind.Relative));

        Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
        Assert.Equal($"/ws/{sid}/?folder=%2Fx", response.Headers.Location!.OriginalString);
        Assert.Equal(before, env.A.Requests);
    }

    [Theory]
    [InlineData("/proxy/8080/app/index.html?q=1")]
    [InlineData("/proxy/3000")]
    [InlineData("/absproxy/5173/@vite/client")]
    [InlineData("/absproxy/65535/")]
    public async Task Code_server_port_proxy_paths_pass_through_untouched(string rest)
    {
        var sid = await env.RouteAsync(env.A);
        Assert.Equal(rest, (await GetEchoAsync($"/ws/{sid}{rest}")).RawTarget);
    }

    [Theory]
    [InlineData("/proxy/0/")]
    [InlineData("/proxy/65536/")]
    [InlineData("/proxy/http/")]
    [InlineData("/proxy/-80/")]
    [InlineData("/absproxy/99999/x")]
    [InlineData("/absproxy//x")]
    public async Task Bad_port_proxy_paths_get_400_and_never_reach_the_workspace(string rest)
    {
        var sid = await env.RouteAsync(env.A);
        var before = env.A.Requests;

        using var response = await Client.GetAsync(new Uri($"/ws/{sid}{rest}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("port", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, env.A.Requests);
    }

    [Fact]
    public async Task The_browser_host_reaches_the_workspace_and_spoofed_forwarding_headers_are_replaced()
    {
        var sid = await env.RouteAsync(env.A);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/headers");
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Prefix", "/elsewhere");
        request.Headers.Add("Forwarded", "for=6.6.6.6;host=evil.example");

        using var response = await Client.SendAsync(request);
        var echo = TestBackend.ParseEcho(await response.Content.ReadAsStringAsync());

        var gatewayHost = env.Gateway.Address.Authority;
        Assert.Equal(gatewayHost, echo.Headers["host"]);
        Assert.Equal(gatewayHost, echo.Headers["x-forwarded-host"]);
        Assert.Equal("127.0.0.1", echo.Headers["x-forwarded-for"]);
        Assert.Equal("http", echo.Headers["x-forwarded-proto"]);
        Assert.Equal($"/ws/{sid}", echo.Headers["x-forwarded-prefix"]);
        Assert.False(echo.Headers.ContainsKey("forwarded"));
    }

    [Theory]
    [InlineData(404)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Workspace_status_codes_and_bodies_pass_through_unchanged(int code)
    {
        var sid = await env.RouteAsync(env.A);

        using var response = await Client.GetAsync(new Uri($"/ws/{sid}/status/{code}", UriKind.Relative));

        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal($"A answered {code}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WebSockets_are_tunnelled_with_the_browser_origin_accepted()
    {
        var sid = await env.RouteAsync(env.A);
        using var socket = await ConnectWebSocketAsync(sid, origin: $"http://{env.Gateway.Address.Authority}");

        Assert.Equal("A:hello", await socket.EchoAsync("hello"));
        Assert.Equal("A:again", await socket.EchoAsync("again"));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task A_WebSocket_from_a_foreign_origin_gets_the_workspace_refusal()
    {
        var sid = await env.RouteAsync(env.A);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Origin", "http://evil.example");

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
    }

    [Fact]
    public async Task An_idle_WebSocket_outlives_the_http_activity_timeout()
    {
        var sid = await env.RouteAsync(env.A);
        using var socket = await ConnectWebSocketAsync(sid, origin: null);

        // The gateway under test times out idle HTTP exchanges after 2 s; tunnels get the WebSocket setting (1 h).
        await Task.Delay(TimeSpan.FromSeconds(3.5));

        Assert.Equal("A:still here", await socket.EchoAsync("still here"));
    }

    [Fact]
    public async Task A_workspace_that_does_not_answer_in_time_gets_504()
    {
        var sid = await env.RouteAsync(env.A);

        using var response = await Client.GetAsync(new Uri($"/ws/{sid}/slow", UriKind.Relative));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("did not answer in time", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_sent_events_flow_as_they_are_produced()
    {
        var sid = await env.RouteCachedAsync(env.A);
        env.A.ResetSignals();
        using var response = await Client.GetAsync(new Uri($"/ws/{sid}/sse", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();

        // The backend holds the second event until the first has been seen here.
        Assert.Equal("data: first\n\n", await ReadUtf8Async(body, "data: first\n\n".Length));
        env.A.Release.SetResult();
        Assert.Equal("data: second\n\n", await ReadUtf8Async(body, "data: second\n\n".Length));
    }

    [Fact]
    public async Task Downloads_stream_instead_of_being_buffered()
    {
        var sid = await env.RouteCachedAsync(env.A);
        env.A.ResetSignals();
        using var response = await Client.GetAsync(new Uri($"/ws/{sid}/download", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();

        var first = new byte[TestBackend.ChunkSize];
        await body.ReadExactlyAsync(first).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        env.A.Release.SetResult();
        var total = first.Length + await DrainAsync(body);

        Assert.Equal(16 * TestBackend.ChunkSize, total);
    }

    [Fact]
    public async Task Uploads_stream_instead_of_being_buffered()
    {
        var sid = await env.RouteCachedAsync(env.A);
        env.A.ResetSignals();
        using var content = new GatedUploadContent(env.A.FirstUploadChunkReceived.Task);
        using var response = await Client.PostAsync(new Uri($"/ws/{sid}/upload", UriKind.Relative), content);
        var answer = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {answer}");
        Assert.Equal((4 * TestBackend.ChunkSize).ToString(System.Globalization.CultureInfo.InvariantCulture), answer);
        Assert.False(content.GateTimedOut, "the workspace did not get the first chunk until the rest was sent: the gateway held it");
    }

    [Fact]
    public async Task Large_bodies_arrive_intact_in_both_directions()
    {
        var sid = await env.RouteCachedAsync(env.A);
        const int Size = (8 * 1024 * 1024) + 12_345; // not a multiple of any buffer or block size
        var upload = TestBackend.RandomBody(Size);

        using var uploaded = await Client.PostAsync(new Uri($"/ws/{sid}/digest", UriKind.Relative), new UnevenContent(upload));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(upload)), await uploaded.Content.ReadAsStringAsync());

        using var downloaded = await Client.GetAsync(new Uri($"/ws/{sid}/random/{Size}", UriKind.Relative));
        var body = await downloaded.Content.ReadAsByteArrayAsync();
        Assert.Equal(Size, body.Length);
        Assert.True(body.AsSpan().SequenceEqual(upload), "the response body changed on its way through the gateway");
    }

    private async Task<EchoReply> GetEchoAsync(string pathAndQuery)
    {
        using var response = await Client.GetAsync(new Uri(env.Gateway.Address + pathAndQuery.TrimStart('/'), Verbatim));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return TestBackend.ParseEcho(text);
    }

    private async Task<ClientWebSocket> ConnectWebSocketAsync(string sid, string? origin)
    {
        var socket = new ClientWebSocket();
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        await socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None);
        return socket;
    }

    private static async Task<string> ReadUtf8Async(Stream body, int length)
    {
        var buffer = new byte[length];
        await body.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.UTF8.GetString(buffer);
    }

    private static async Task<long> DrainAsync(Stream body)
    {
        var buffer = new byte[TestBackend.ChunkSize];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    /// <summary>A body written in pieces of uneven sizes (1 byte to ~100 KiB), as a browser's upload arrives.</summary>
    private sealed class UnevenContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var sizes = new[] { 1, 4095, 4097, 32 * 1024, 100_000, 7 };
            var offset = 0;
            for (var i = 0; offset < body.Length; i++)
            {
                var size = Math.Min(sizes[i % sizes.Length], body.Length - offset);
                await stream.WriteAsync(body.AsMemory(offset, size));
                await stream.FlushAsync();
                offset += size;
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }

    /// <summary>
    /// Sends one chunk as a large piece and a 1000-byte tail (smaller than HttpClient's write buffer: a
    /// proxy that does not flush holds it), then waits for the backend to confirm the whole chunk before
    /// sending three more. After 10 s without it, sends the rest anyway and says so, so that the test can
    /// report what the gateway answered.
    /// </summary>
    private sealed class GatedUploadContent(Task firstChunkReceived) : HttpContent
    {
        private const int Tail = 1000;

        public bool GateTimedOut { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[TestBackend.ChunkSize];
            await stream.WriteAsync(chunk.AsMemory(0, chunk.Length - Tail));
            await stream.FlushAsync();
            await Task.Delay(100);
            await stream.WriteAsync(chunk.AsMemory(chunk.Length - Tail));
            await stream.FlushAsync();
            GateTimedOut = await Task.WhenAny(firstChunkReceived, Task.Delay(TimeSpan.FromSeconds(10))) != firstChunkReceived;
            for (var i = 0; i < 3; i++)
            {
                await stream.WriteAsync(chunk);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
