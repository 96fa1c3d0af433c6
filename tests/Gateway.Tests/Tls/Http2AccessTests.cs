using System.Net;
using System.Net.WebSockets;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Tls;

/// <summary>Over HTTP/2, the same door as over HTTP/1.1: tickets, session cookies, and nothing of ours reaching the workspace.</summary>
public sealed class Http2AccessTests(TicketGatewayOnTls env) : IClassFixture<TicketGatewayOnTls>
{
    [Fact]
    public async Task A_ticket_link_over_http2_becomes_a_secure_session_cookie_the_workspace_never_sees()
    {
        var sid = await env.RouteAsync(env.A);
        using var client = new HttpClient(env.Gateway.CreateHandler()) { BaseAddress = env.Gateway.Address, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var first = await client.GetAsync(new Uri($"/ws/{sid}/?folder=%2Fhome&ticket={TestTickets.Ticket(sid)}", UriKind.Relative));

        Assert.Equal(HttpVersion.Version20, first.Version);
        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        Assert.Equal($"/ws/{sid}/?folder=%2Fhome", first.Headers.Location!.OriginalString);
        var attributes = first.Headers.GetValues("Set-Cookie").Single().Split("; ");
        Assert.Contains("Secure", attributes);

        using var page = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/?folder=%2Fhome");
        page.Headers.Add("Cookie", attributes[0] + "; theme=dark");
        using var response = await client.SendAsync(page);
        var echo = TestBackend.ParseEcho(await response.Content.ReadAsStringAsync());
        Assert.Equal(("A", "/?folder=%2Fhome"), (echo.Backend, echo.RawTarget));
        Assert.Equal("theme=dark", echo.Headers["cookie"]);
    }

    [Fact]
    public async Task A_websocket_over_http2_opens_with_a_ticket_or_the_session_and_never_for_a_stranger()
    {
        var sid = await env.RouteAsync(env.A);
        var theirs = await env.RouteAsync(env.B);
        using var handler = env.Gateway.CreateHandler();

        using var byTicket = await env.Gateway.ConnectOverHttp2Async($"/ws/{sid}/socket?ticket={TestTickets.Ticket(sid)}", handler);
        Assert.Equal("A:hi", await byTicket.EchoAsync("hi"));

        using var bySession = new ClientWebSocket();
        bySession.Options.HttpVersion = HttpVersion.Version20;
        bySession.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        bySession.Options.SetRequestHeader("Cookie", "gw_session=" + TestTickets.Session(sid));
        await bySession.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), new HttpMessageInvoker(handler, disposeHandler: false), CancellationToken.None);
        Assert.Equal("A:there", await bySession.EchoAsync("there"));

        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedAsync($"/ws/{theirs}/socket", handler));
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedAsync($"/ws/{theirs}/socket?ticket={TestTickets.Ticket(sid)}", handler));
    }

    private async Task<HttpStatusCode> RefusedAsync(string pathAndQuery, SocketsHttpHandler handler)
    {
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() =>
            socket.ConnectAsync(env.Gateway.WebSocketUri(pathAndQuery), new HttpMessageInvoker(handler, disposeHandler: false), CancellationToken.None));
        return socket.HttpStatusCode;
    }
}
