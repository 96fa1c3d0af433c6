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

    /// <summary>Sends <paramref name="text"/> and returns the reply (the test backend answers <c>&lt;name&gt;:&lt;text&gt;</c>).</summary>
    public static async Task<string> EchoAsync(this ClientWebSocket socket, string text)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
