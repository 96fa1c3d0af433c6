using System.Net;
using System.Net.Http.Json;

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
}
