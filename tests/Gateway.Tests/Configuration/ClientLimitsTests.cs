using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>Gateway:Limits from configuration, enforced on real sockets before anything reaches a workspace.</summary>
public sealed class ClientLimitsTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task A_body_over_the_configured_size_gets_413_and_one_under_it_is_forwarded()
    {
        var sid = await env.RouteAsync(env.A);
        await using var gateway = await GatewayHost.StartAsync(env.Redis, "--Gateway:Limits:MaxRequestBodySize=4096");

        using (var small = await gateway.Client.PostAsync(new Uri($"/ws/{sid}/upload", UriKind.Relative), new ByteArrayContent(new byte[4096])))
        {
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
            Assert.Equal("4096", await small.Content.ReadAsStringAsync());
        }

        var before = env.A.Requests;
        using var large = await gateway.Client.PostAsync(new Uri($"/ws/{sid}/upload", UriKind.Relative), new ByteArrayContent(new byte[64 * 1024]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Equal(before, env.A.Requests);
    }

    [Fact]
    public async Task Too_many_headers_get_431_from_the_gateway()
    {
        var sid = await env.RouteAsync(env.A);
        await using var gateway = await GatewayHost.StartAsync(env.Redis, "--Gateway:Limits:MaxRequestHeaderCount=20");
        var before = env.A.Requests;

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/ws/{sid}/", UriKind.Relative));
        for (var i = 0; i < 30; i++)
        {
            request.Headers.TryAddWithoutValidation($"X-Filler-{i}", "x");
        }

        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Equal(before, env.A.Requests);
    }
}
