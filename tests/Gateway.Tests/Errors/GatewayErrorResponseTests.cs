using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Errors;

public sealed class GatewayErrorResponseTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task A_malformed_sid_gets_400_as_problem_json_when_json_is_asked_for()
    {
        using var response = await SendAsync("/ws/bad.sid/", json: true);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("invalid_workspace_id", problem.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_malformed_sid_gets_400_as_a_small_page_in_a_browser()
    {
        using var response = await SendAsync("/ws/" + new string('x', 65) + "/", json: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<h1>Invalid workspace id</h1>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_sid_gets_404_workspace_not_running()
    {
        using var response = await SendAsync("/ws/nobody-home/", json: true);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("workspace_not_running", problem.RootElement.GetProperty("code").GetString());
        Assert.Equal("nobody-home", problem.RootElement.GetProperty("sid").GetString());

        using var page = await SendAsync("/ws/nobody-home/", json: false);
        Assert.Contains("Workspace not running", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_head_request_gets_the_status_without_a_body()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/ws/nobody-home/");
        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_workspace_that_refuses_the_connection_gets_502_quickly()
    {
        var sid = "refusing" + Guid.NewGuid().ToString("N")[..8];
        await env.Writer.SetRouteAsync(sid, $"127.0.0.1:{FreePort.Next()}");

        var clock = Stopwatch.StartNew();
        using var response = await SendAsync($"/ws/{sid}/", json: true);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("workspace_unreachable", problem.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_garbage_route_value_gets_502_not_500()
    {
        var sid = "garbage" + Guid.NewGuid().ToString("N")[..8];
        await env.Writer.SetRouteAsync(sid, "http://not a host/");

        using var response = await SendAsync($"/ws/{sid}/", json: true);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("workspace_route_invalid", problem.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Addresses_outside_ws_get_404_when_no_static_route_matches()
    {
        using var response = await SendAsync("/somewhere/else", json: true);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("not_found", problem.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_unreachable_redis_gets_503_with_retry_after_for_uncached_sids()
    {
        await using var gateway = await GatewayHost.StartAsync($"127.0.0.1:{FreePort.Next()}", RepositoryPaths.GatewayConfig);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ws/anything/");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter!.Delta);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("route_store_unavailable", problem.RootElement.GetProperty("code").GetString());
    }

    private async Task<HttpResponseMessage> SendAsync(string path, bool json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(json ? "application/json" : "text/html"));
        return await env.Gateway.Client.SendAsync(request);
    }
}
