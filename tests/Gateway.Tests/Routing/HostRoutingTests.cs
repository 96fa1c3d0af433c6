using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Routing;

/// <summary>The gateway with access checks and host-based routing under <see cref="Domain"/>.</summary>
public class HostGatewayWithBackends : GatewayWithBackends
{
    public const string Domain = "ws.test";

    public const string LoginUrl = "http://platform.test/";

    protected override string[] GatewayArguments =>
        [.. TestTickets.GatewayArgs, $"--Gateway:Routes:WorkspaceDomain={Domain}", "--Gateway:Forwarding:TrustedProxies:0=127.0.0.2/32",
            $"--Gateway:Auth:LoginUrl={LoginUrl}"];

    /// <summary>A request to the gateway naming <paramref name="host"/>; <c>Accept: application/json</c> unless a header says otherwise.</summary>
    public async Task<HttpResponseMessage> SendAsync(
        string host, string pathAndQuery, string? cookie = null, bool https = false, HttpClient? client = null, HttpMethod? method = null, params string[] headers)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(Gateway.Address, new Uri(pathAndQuery, UriKind.Relative)));
        request.Headers.Host = host;
        if (!headers.Any(header => header.StartsWith("Accept:", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Accept.ParseAdd("application/json");
        }

        var all = new List<string>(headers);
        if (https)
        {
            all.Add("X-Forwarded-Proto: https");
        }

        if (cookie is not null)
        {
            all.Add("Cookie: " + cookie);
        }

        foreach (var header in all)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            request.Headers.TryAddWithoutValidation(header[..colon], header[(colon + 2)..]);
        }

        return await (client ?? Gateway.Client).SendAsync(request);
    }

    public static async Task<EchoReply> EchoOf(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return TestBackend.ParseEcho(body);
    }
}

/// <summary>Each workspace, and each port of it, on its own origin, over real sockets.</summary>
public sealed class YarpHostGatewayWithBackends : HostGatewayWithBackends
{
    protected override string[] GatewayArguments => [.. base.GatewayArguments, WithoutFastPath];
}

/// <summary>With the gateway's defaults: the fast path serves what it takes, the YARP way the rest.</summary>
public sealed class HostRoutingTests(HostGatewayWithBackends env) : HostRoutingTests<HostGatewayWithBackends>(env);

/// <summary>The same with the fast path off: every request the YARP way, which the fast path must match.</summary>
public sealed class HostRoutingTestsThroughYarp(YarpHostGatewayWithBackends env) : HostRoutingTests<YarpHostGatewayWithBackends>(env);

public abstract class HostRoutingTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : HostGatewayWithBackends
{
    private HttpClient Client => env.Gateway.Client;

    [Fact]
    public async Task The_editor_host_trades_a_ticket_for_a_host_only_cookie_and_forwards_the_whole_path()
    {
        var sid = await env.RouteAsync(env.A);
        var host = $"{sid}.{HostGatewayWithBackends.Domain}";

        using var first = await env.SendAsync(host, $"/a%20b/?folder=%2Fhome&ticket={TestTickets.Ticket(sid)}&x=1");

        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        Assert.Equal("/a%20b/?folder=%2Fhome&x=1", first.Headers.Location!.OriginalString);
        var attributes = first.Headers.GetValues("Set-Cookie").Single().Split("; ");
        Assert.Contains("Path=/", attributes);
        Assert.DoesNotContain(attributes, attribute => attribute.StartsWith("Domain", StringComparison.OrdinalIgnoreCase));

        using var second = await env.SendAsync(host, "/a%20b/?folder=%2Fhome&x=1", cookie: attributes[0]);
        var echo = await HostGatewayWithBackends.EchoOf(second);

        Assert.Equal(("A", "/a%20b/?folder=%2Fhome&x=1"), (echo.Backend, echo.RawTarget));
        Assert.Equal(host, echo.Headers["x-forwarded-host"]);
        Assert.False(echo.Headers.ContainsKey("x-forwarded-prefix"), "a workspace on its own origin has no path prefix");
        Assert.False(echo.Headers.ContainsKey("cookie"), "the gateway's cookie reached the workspace");
    }

    [Fact]
    public async Task Over_HTTPS_the_origin_cookie_is_a_Host_prefixed_one_that_no_sibling_origin_can_plant()
    {
        var sid = await env.RouteAsync(env.A);
        var host = $"{sid}.{HostGatewayWithBackends.Domain}";
        using var balancer = env.Gateway.CreateClientFrom(IPAddress.Parse("127.0.0.2"));

        using var first = await env.SendAsync(host, $"/?ticket={TestTickets.Ticket(sid)}", https: true, client: balancer);
        var attributes = first.Headers.GetValues("Set-Cookie").Single().Split("; ");

        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        Assert.StartsWith("__Host-gw_session=", attributes[0], StringComparison.Ordinal);
        Assert.Contains("Secure", attributes);
        Assert.Contains("Path=/", attributes);

        using var withPrefixed = await env.SendAsync(host, "/", cookie: attributes[0] + "; theme=dark", https: true, client: balancer);
        var echo = await HostGatewayWithBackends.EchoOf(withPrefixed);
        Assert.Equal("theme=dark", echo.Headers["cookie"]);

        // What a page on another workspace's origin could plant with Domain=: the unprefixed name, ignored here.
        using var planted = await env.SendAsync(host, "/", cookie: "gw_session=" + TestTickets.Session(sid), https: true, client: balancer);
        Assert.Equal(HttpStatusCode.Unauthorized, planted.StatusCode);
    }

    [Fact]
    public async Task A_port_host_reaches_that_port_through_the_workspace_at_the_root()
    {
        var sid = await env.RouteAsync(env.A);

        using var response = await env.SendAsync($"3000--{sid}.{HostGatewayWithBackends.Domain}", "/app/main.js?v=2", cookie: "gw_session=" + TestTickets.Session(sid));
        var echo = await HostGatewayWithBackends.EchoOf(response);

        Assert.Equal(("A", "/proxy/3000/app/main.js?v=2"), (echo.Backend, echo.RawTarget));
    }

    [Fact]
    public async Task The_owner_navigating_to_a_stopped_workspaces_origin_is_sent_to_the_platform_with_the_whole_address()
    {
        var sid = await env.RouteAsync(env.A);
        await env.Writer.RemoveRouteAsync(sid);
        await env.Writer.PublishAsync(sid);
        var owner = "gw_session=" + TestTickets.Session(sid);

        foreach (var host in new[] { $"{sid}.{HostGatewayWithBackends.Domain}", $"3000--{sid}.{HostGatewayWithBackends.Domain}" })
        {
            using var navigation = await env.SendAsync(host, "/src/app.ts?line=4", cookie: owner, headers: ["Accept: text/html", "Sec-Fetch-Mode: navigate"]);
            Assert.Equal(HttpStatusCode.Found, navigation.StatusCode);
            Assert.Equal(
                HostGatewayWithBackends.LoginUrl + "?returnTo=" + Uri.EscapeDataString($"http://{host}/src/app.ts?line=4"),
                navigation.Headers.Location!.OriginalString);

            using var script = await env.SendAsync(host, "/src/app.ts", cookie: owner);
            Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
        }
    }

    [Fact]
    public async Task A_path_naming_another_workspace_stays_inside_this_one()
    {
        var sid = await env.RouteAsync(env.A);
        var other = await env.RouteAsync(env.B);

        using var response = await env.SendAsync($"{sid}.{HostGatewayWithBackends.Domain}", $"/ws/{other}/", cookie: "gw_session=" + TestTickets.Session(sid));
        var echo = await HostGatewayWithBackends.EchoOf(response);

        Assert.Equal(("A", $"/ws/{other}/"), (echo.Backend, echo.RawTarget));
    }

    [Fact]
    public async Task Another_workspaces_credential_is_refused_on_this_origin()
    {
        var sid = await env.RouteAsync(env.A);
        var other = await env.RouteAsync(env.B);
        var before = env.A.Requests;

        using var withCookie = await env.SendAsync($"{sid}.{HostGatewayWithBackends.Domain}", "/", cookie: "gw_session=" + TestTickets.Session(other));
        using var withTicket = await env.SendAsync($"3000--{sid}.{HostGatewayWithBackends.Domain}", $"/?ticket={TestTickets.Ticket(other)}");

        Assert.Equal(HttpStatusCode.Forbidden, withCookie.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, withTicket.StatusCode);
        Assert.Equal(before, env.A.Requests);
    }

    [Fact]
    public async Task X_Forwarded_Host_from_an_untrusted_peer_routes_nothing()
    {
        var sid = await env.RouteAsync(env.A);
        var other = await env.RouteAsync(env.B);
        var host = $"{sid}.{HostGatewayWithBackends.Domain}";

        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", $"{other}.{HostGatewayWithBackends.Domain}");
        request.Headers.TryAddWithoutValidation("Cookie", "gw_session=" + TestTickets.Session(sid));
        using var response = await Client.SendAsync(request);
        var echo = await HostGatewayWithBackends.EchoOf(response);

        Assert.Equal("A", echo.Backend);
        Assert.Equal(host, echo.Headers["x-forwarded-host"]);
    }

    [Theory]
    [InlineData("{sid}.WS.test")]
    [InlineData("{SID}.ws.test")]
    [InlineData("{sid}.ws.test.")]
    [InlineData("{sid}.ws.test:8443")]
    [InlineData("x.{sid}.ws.test")]
    [InlineData("0--{sid}.ws.test")]
    [InlineData("65536--{sid}.ws.test")]
    [InlineData("03000--{sid}.ws.test")]
    [InlineData("xn--{sid}.ws.test")]
    [InlineData("a_b.ws.test")]
    public async Task A_malformed_workspace_host_is_400_and_reaches_no_workspace(string template)
    {
        var sid = await env.RouteAsync(env.A);
        var before = env.A.Requests;

        using var response = await env.SendAsync(template.Replace("{sid}", sid, StringComparison.Ordinal).Replace("{SID}", sid.ToUpperInvariant(), StringComparison.Ordinal), "/", cookie: "gw_session=" + TestTickets.Session(sid));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("invalid_host", (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
        Assert.Equal(before, env.A.Requests);
    }

    [Fact]
    public async Task A_preflight_to_a_private_port_from_another_origin_of_the_workspace_is_allowed_without_reaching_it()
    {
        var sid = await env.RouteAsync(env.A);
        var before = env.A.Requests;

        using var response = await PreflightAsync($"8080--{sid}.{HostGatewayWithBackends.Domain}", $"http://5173--{sid}.{HostGatewayWithBackends.Domain}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal($"http://5173--{sid}.{HostGatewayWithBackends.Domain}", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        Assert.Equal("PUT", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Equal("content-type,x-token", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
        Assert.Contains("Origin", response.Headers.Vary);
        Assert.Equal(before, env.A.Requests);
    }

    [Theory]
    [InlineData("http://5173--{other}.ws.test")]
    [InlineData("http://{other}.ws.test")]
    [InlineData("https://evil.example")]
    [InlineData("http://5173--{sid}.ws.test.evil.example")]
    [InlineData("null")]
    public async Task A_preflight_from_any_other_origin_is_allowed_nothing(string origin)
    {
        var sid = await env.RouteAsync(env.A);
        var other = await env.RouteAsync(env.B);

        using var response = await PreflightAsync($"8080--{sid}.{HostGatewayWithBackends.Domain}", origin.Replace("{sid}", sid, StringComparison.Ordinal).Replace("{other}", other, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task A_preflight_answer_does_not_tell_whether_the_workspace_exists()
    {
        var sid = await env.RouteAsync(env.A);
        const string Unknown = "wnosuchworkspace";

        using var known = await PreflightAsync($"8080--{sid}.{HostGatewayWithBackends.Domain}", $"http://{sid}.{HostGatewayWithBackends.Domain}");
        using var unknown = await PreflightAsync($"8080--{Unknown}.{HostGatewayWithBackends.Domain}", $"http://{Unknown}.{HostGatewayWithBackends.Domain}");

        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal(
            known.Headers.Where(h => h.Key != "Access-Control-Allow-Origin" && h.Key != "Date").Select(h => $"{h.Key}: {string.Join(",", h.Value)}"),
            unknown.Headers.Where(h => h.Key != "Access-Control-Allow-Origin" && h.Key != "Date").Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
    }

    [Fact]
    public async Task The_editor_origin_answers_no_preflight_for_a_dev_server_page()
    {
        var sid = await env.RouteAsync(env.A);

        using var response = await PreflightAsync($"{sid}.{HostGatewayWithBackends.Domain}", $"http://3000--{sid}.{HostGatewayWithBackends.Domain}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Path_routing_still_serves_the_gateways_own_name()
    {
        var sid = await env.RouteAsync(env.A);

        using var response = await env.SendAsync("localhost", $"/ws/{sid}/x", cookie: "gw_session=" + TestTickets.Session(sid));
        var echo = await HostGatewayWithBackends.EchoOf(response);

        Assert.Equal(("A", "/x"), (echo.Backend, echo.RawTarget));
        Assert.Equal($"/ws/{sid}", echo.Headers["x-forwarded-prefix"]);
    }

    private Task<HttpResponseMessage> PreflightAsync(string host, string origin) =>
        env.SendAsync(host, "/api/items", method: HttpMethod.Options, headers: ["Origin: " + origin, "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: content-type,x-token"]);
}
