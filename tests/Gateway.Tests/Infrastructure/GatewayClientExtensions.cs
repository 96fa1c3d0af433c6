using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

internal static class GatewayClientExtensions
{
    /// <summary>Which test backend served <c>/ws/&lt;sid&gt;/</c>, or <c>HTTP &lt;status&gt;</c> when none did.</summary>
    public static async Task<string> BackendOfAsync(this HttpClient client, string sid)
    {
        using var response = await client.GetAsync(new Uri($"/ws/{sid}/who", UriKind.Relative));
        return response.StatusCode == HttpStatusCode.OK
            ? (await response.Content.ReadFromJsonAsync<EchoReply>())!.Backend
            : $"HTTP {(int)response.StatusCode}";
    }

    /// <summary>
    /// A WebSocket over HTTP/2 (RFC 8441), as Chromium opens one on a connection that offered it: HTTP/2 and
    /// nothing else is asked for, so the connect fails where the gateway would not do it. Sockets opened with the
    /// same <paramref name="handler"/> share one connection.
    /// </summary>
    public static async Task<ClientWebSocket> ConnectOverHttp2Async(this GatewayHost gateway, string pathAndQuery, SocketsHttpHandler handler)
    {
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        await socket.ConnectAsync(gateway.WebSocketUri(pathAndQuery), new HttpMessageInvoker(handler, disposeHandler: false), CancellationToken.None);
        return socket;
    }

    /// <summary>The close frame the socket receives next, within <paramref name="within"/>.</summary>
    public static async Task<(WebSocketCloseStatus? Status, string? Reason)> CloseReceivedAsync(this ClientWebSocket socket, TimeSpan within)
    {
        var buffer = new byte[1024];
        using var deadline = new CancellationTokenSource(within);
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, deadline.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (result.CloseStatus, result.CloseStatusDescription);
            }
        }
    }

    /// <summary>Sends <paramref name="text"/> and returns the reply (the test backend answers <c>&lt;name&gt;:&lt;text&gt;</c>).</summary>
    public static async Task<string> EchoAsync(this ClientWebSocket socket, string text)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
