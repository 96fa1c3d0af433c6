using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Auth;

/// <summary>With the gateway's defaults: the fast path serves what it takes, the YARP way the rest.</summary>
public sealed class WorkspaceAccessTests(TicketGatewayWithBackends env) : WorkspaceAccessTests<TicketGatewayWithBackends>(env);

/// <summary>The same with the fast path off: every request the YARP way, which the fast path must match.</summary>
public sealed class WorkspaceAccessTestsThroughYarp(YarpTicketGatewayWithBackends env) : WorkspaceAccessTests<YarpTicketGatewayWithBackends>(env);

/// <summary>Only the holder of a ticket for a workspace reaches it, over real sockets.</summary>
public abstract class WorkspaceAccessTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : TicketGatewayWithBackends
{
    private HttpClient Client => env.Gateway.Client;

    [Fact]
    public async Task Without_a_credential_the_answer_is_401_with_a_bearer_challenge_and_the_workspace_sees_nothing()
    {
        var sid = await env.RouteAsync(env.A);
        var before = env.A.Requests;

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/");
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("authentication_required", (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
        Assert.Equal(before, env.A.Requests);
    }

    [Fact]
    public async Task A_ticket_in_the_address_becomes_a_path_scoped_cookie_and_a_redirect_without_the_ticket()
    {
        var sid = await env.RouteAsync(env.A);

        using var first = await Client.GetAsync(new Uri($"/ws/{sid}/a%20b/?folder=%2Fhome&ticket={TestTickets.Ticket(sid)}&x=1", UriKind.Relative));

        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        Assert.Equal($"/ws/{sid}/a%20b/?folder=%2Fhome&x=1", first.Headers.Location!.OriginalString);
        Assert.Equal("no-referrer", first.Headers.GetValues("Referrer-Policy").Single());
        var setCookie = first.Headers.GetValues("Set-Cookie").Single();
        var attributes = setCookie.Split("; ");
        Assert.StartsWith("gw_session=", attributes[0], StringComparison.Ordinal);
        Assert.Contains($"Path=/ws/{sid}/", attributes);
        Assert.Contains("HttpOnly", attributes);
        Assert.Contains("SameSite=Lax", attributes);
        Assert.DoesNotContain("Secure", attributes);
        Assert.Contains("Max-Age=28800", attributes);

        var echo = await GetEchoAsync($"/ws/{sid}/a%20b/?folder=%2Fhome&x=1", cookie: attributes[0] + "; theme=dark");

        Assert.Equal("A", echo.Backend);
        Assert.Equal("/a%20b/?folder=%2Fhome&x=1", echo.RawTarget);
        Assert.Equal("theme=dark", echo.Headers["cookie"]);
    }

    [Fact]
    public async Task A_browser_follows_the_ticket_link_and_ends_on_the_workspace_with_a_cookie_jar()
    {
        var sid = await env.RouteAsync(env.A);
        using var browser = new HttpClient(new SocketsHttpHandler { UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = env.Gateway.Address };

        var echo = await browser.GetFromJsonAsync<EchoReply>($"/ws/{sid}/?ticket={TestTickets.Ticket(sid)}");
        var again = await browser.GetFromJsonAsync<EchoReply>($"/ws/{sid}/static/app.js");

        Assert.Equal(("A", "/"), (echo!.Backend, echo.RawTarget));
        Assert.Equal("A", again!.Backend);
        Assert.False(echo.Headers.ContainsKey("cookie"));

        // Path-scoped: the cookie is not sent to another workspace's address.
        var other = await env.RouteAsync(env.B);
        using var elsewhere = await browser.GetAsync(new Uri($"/ws/{other}/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, elsewhere.StatusCode);
    }

    [Fact]
    public async Task A_ticket_or_session_for_another_workspace_is_403_however_it_is_presented()
    {
        var mine = await env.RouteAsync(env.A);
        var theirs = await env.RouteAsync(env.B);
        var before = env.B.Requests;

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"/ws/{theirs}/?ticket={TestTickets.Ticket(mine)}"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"/ws/{theirs}/", bearer: TestTickets.Ticket(mine)));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"/ws/{theirs}/", cookie: "gw_session=" + TestTickets.Session(mine)));
        Assert.Equal(before, env.B.Requests);
    }

    [Fact]
    public async Task A_bearer_ticket_admits_an_api_client_and_is_not_forwarded()
    {
        var sid = await env.RouteAsync(env.A);

        var echo = await GetEchoAsync($"/ws/{sid}/api", bearer: TestTickets.Ticket(sid));

        Assert.Equal("A", echo.Backend);
        Assert.False(echo.Headers.ContainsKey("authorization"));
    }

    [Fact]
    public async Task The_users_own_authorization_header_reaches_their_app_when_the_session_cookie_admits_them()
    {
        var sid = await env.RouteAsync(env.A);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/proxy/3000/api");
        request.Headers.TryAddWithoutValidation("Cookie", "gw_session=" + TestTickets.Session(sid));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "my-apps-own-token");

        using var response = await Client.SendAsync(request);
        var echo = TestBackend.ParseEcho(await response.Content.ReadAsStringAsync());

        Assert.Equal("Bearer my-apps-own-token", echo.Headers["authorization"]);
        Assert.False(echo.Headers.ContainsKey("cookie"));
    }

    [Fact]
    public async Task A_WebSocket_upgrade_needs_the_cookie_and_works_with_it()
    {
        var sid = await env.RouteAsync(env.A);

        using (var stranger = new ClientWebSocket())
        {
            stranger.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAsync<WebSocketException>(() => stranger.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None));
            Assert.Equal(HttpStatusCode.Unauthorized, stranger.HttpStatusCode);
        }

        using var owner = new ClientWebSocket();
        owner.Options.SetRequestHeader("Cookie", "gw_session=" + TestTickets.Session(sid));
        await owner.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None);
        Assert.Equal("A:hi", await owner.EchoAsync("hi"));
    }

    [Fact]
    public async Task A_client_that_cannot_follow_redirects_may_upgrade_with_the_ticket_in_the_address()
    {
        var sid = await env.RouteAsync(env.A);

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket?ticket={TestTickets.Ticket(sid)}"), CancellationToken.None);

        Assert.Equal("A:hi", await socket.EchoAsync("hi"));
    }

    [Fact]
    public async Task A_used_up_ticket_link_opened_with_a_live_session_only_loses_its_ticket()
    {
        var sid = await env.RouteAsync(env.A);
        var expired = TestTickets.Ticket(sid, lifetime: TimeSpan.FromMinutes(-10));

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/?ticket={expired}");
        request.Headers.TryAddWithoutValidation("Cookie", "gw_session=" + TestTickets.Session(sid));
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal($"/ws/{sid}/", response.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync($"/ws/{sid}/?ticket={expired}"));
    }

    [Fact]
    public async Task A_session_past_half_its_life_is_renewed_on_the_next_response()
    {
        var sid = await env.RouteAsync(env.A);
        using var fresh = await SendAsync($"/ws/{sid}/", cookie: "gw_session=" + TestTickets.Session(sid));
        using var ageing = await SendAsync($"/ws/{sid}/", cookie: "gw_session=" + TestTickets.Session(sid, lifetime: TimeSpan.FromMinutes(5)));

        Assert.False(fresh.Headers.Contains("Set-Cookie"));
        var renewed = ageing.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith("gw_session=", renewed, StringComparison.Ordinal);
        Assert.Contains($"Path=/ws/{sid}/", renewed, StringComparison.Ordinal);

        var token = renewed.Split(';')[0]["gw_session=".Length..];
        Assert.Equal(HttpStatusCode.OK, await StatusAsync($"/ws/{sid}/", cookie: "gw_session=" + token));
    }

    [Fact]
    public async Task A_workspace_cannot_plant_the_gateways_cookie_but_its_own_cookies_arrive()
    {
        var sid = await env.RouteAsync(env.A);

        using var response = await SendAsync($"/ws/{sid}/set-cookie", bearer: TestTickets.Ticket(sid));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["app=1; Path=/"], response.Headers.GetValues("Set-Cookie"));
    }

    [Fact]
    public async Task Tickets_signed_es256_with_a_configured_public_key_are_accepted_and_key_confusion_is_not()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = Path.Combine(Path.GetTempPath(), $"ticket-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(pem, ecdsa.ExportSubjectPublicKeyInfoPem());
        try
        {
            await using var gateway = await GatewayHost.StartAsync(env.Redis, [.. TestTickets.GatewayArgs, $"--Gateway:Auth:TicketPublicKeyFiles:0={pem}"]);
            var sid = await env.RouteAsync(env.A);
            var claims = TestTickets.Claims(sid, "user-1", TestTickets.Audience, TimeSpan.FromMinutes(1));

            Assert.Equal(HttpStatusCode.OK, await StatusAsync($"/ws/{sid}/", bearer: TestTickets.Es256(claims, ecdsa), client: gateway.Client));

            // The public key's bytes used as an HMAC secret (the classic RS/HS confusion): refused.
            var confused = TestTickets.Hs256(claims, key: ecdsa.ExportSubjectPublicKeyInfo());
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync($"/ws/{sid}/", bearer: confused, client: gateway.Client));
            using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync($"/ws/{sid}/", bearer: TestTickets.Es256(claims, otherKey), client: gateway.Client));
        }
        finally
        {
            File.Delete(pem);
        }
    }

    [Fact]
    public async Task A_browser_navigation_without_a_credential_goes_to_the_login_page_and_an_api_call_gets_401()
    {
        await using var gateway = await GatewayHost.StartAsync(env.Redis, [.. TestTickets.GatewayArgs, "--Gateway:Auth:LoginUrl=/login?from=gateway"]);
        var sid = await env.RouteAsync(env.A);

        using var navigation = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/x?y=1");
        navigation.Headers.Accept.ParseAdd("text/html");
        navigation.Headers.Add("Sec-Fetch-Mode", "navigate");
        using var toLogin = await gateway.Client.SendAsync(navigation);
        Assert.Equal(HttpStatusCode.Found, toLogin.StatusCode);
        Assert.Equal($"/login?from=gateway&returnTo={Uri.EscapeDataString($"/ws/{sid}/x?y=1")}", toLogin.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync($"/ws/{sid}/x", client: gateway.Client));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync($"/ws/{sid}/x", bearer: "expired.or.bad", client: gateway.Client));
    }

    [Fact]
    public async Task The_owner_navigating_to_a_stopped_workspace_is_sent_to_the_platform_to_start_it_exactly_like_a_stranger()
    {
        await using var gateway = await GatewayHost.StartAsync(env.Redis, [.. TestTickets.GatewayArgs, "--Gateway:Auth:LoginUrl=/login?from=gateway"]);
        var sid = await env.RouteAsync(env.A);
        await env.Writer.RemoveRouteAsync(sid);
        await env.Writer.PublishAsync(sid);
        var owner = "gw_session=" + TestTickets.Session(sid);

        async Task<(HttpStatusCode Status, string? Location)> NavigateAsync(string? cookie)
        {
            using var navigation = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/x?y=1");
            navigation.Headers.Accept.ParseAdd("text/html");
            navigation.Headers.Add("Sec-Fetch-Mode", "navigate");
            if (cookie is not null)
            {
                navigation.Headers.Add("Cookie", cookie);
            }

            using var response = await gateway.Client.SendAsync(navigation);
            return (response.StatusCode, response.Headers.Location?.OriginalString);
        }

        // The page at the login address offers Start and comes back to the very address asked for.
        var expected = (HttpStatusCode.Found, $"/login?from=gateway&returnTo={Uri.EscapeDataString($"/ws/{sid}/x?y=1")}");
        Assert.Equal(expected, await NavigateAsync(owner));
        Assert.Equal(expected, await NavigateAsync(cookie: null));

        // Scripts and the editor's reconnecting WebSocket keep the problem answer; nothing starts by itself.
        using var script = await SendAsync($"/ws/{sid}/x", cookie: owner, client: gateway.Client);
        Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
        Assert.Contains("not running", await script.Content.ReadAsStringAsync());
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", owner);
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Access_checks_cost_no_redis_call_a_stranger_costs_no_lookup_at_all()
    {
        var sid = await env.RouteAsync(env.A);
        var cookie = "gw_session=" + TestTickets.Session(sid);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync($"/ws/{sid}/", cookie: cookie));
        var before = await env.Writer.HGetCallsAsync();

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync($"/ws/{sid}/", cookie: cookie));
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync($"/ws/never-looked-up-{i}/"));
        }

        // 100 requests; the only HGETs are the readiness heartbeat's own (one a second).
        Assert.InRange(await env.Writer.HGetCallsAsync() - before, 0, 5);
    }

    [Fact]
    public async Task A_trusted_load_balancer_is_believed_about_client_and_scheme_and_the_cookie_is_secure()
    {
        var sid = await env.RouteAsync(env.A);
        using var viaBalancer = env.Gateway.CreateClientFrom(IPAddress.Parse("127.0.0.2"));

        using var exchange = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/?ticket={TestTickets.Ticket(sid)}");
        exchange.Headers.Add("X-Forwarded-Proto", "https");
        using var redirect = await viaBalancer.SendAsync(exchange);
        Assert.Contains("Secure", redirect.Headers.GetValues("Set-Cookie").Single().Split("; "));

        var echo = await ClaimingAsync(viaBalancer);

        Assert.Equal("203.0.113.7, 127.0.0.2", echo.Headers["x-forwarded-for"]);
        Assert.Equal("https", echo.Headers["x-forwarded-proto"]);
        Assert.Equal("ide.example.com", echo.Headers["x-forwarded-host"]);

        // The same headers from a client outside the trusted network are replaced.
        var directEcho = await ClaimingAsync(Client);
        Assert.Equal("127.0.0.1", directEcho.Headers["x-forwarded-for"]);
        Assert.Equal("http", directEcho.Headers["x-forwarded-proto"]);
        Assert.Equal(env.Gateway.Address.Authority, directEcho.Headers["x-forwarded-host"]);

        // What the workspace sees of a request claiming a client address, scheme and host.
        async Task<EchoReply> ClaimingAsync(HttpClient client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/");
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-Host", "ide.example.com");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTickets.Ticket(sid));
            using var response = await client.SendAsync(request);
            return TestBackend.ParseEcho(await response.Content.ReadAsStringAsync());
        }
    }


    private async Task<HttpResponseMessage> SendAsync(string pathAndQuery, string? bearer = null, string? cookie = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        return await (client ?? Client).SendAsync(request);
    }

    private async Task<HttpStatusCode> StatusAsync(string pathAndQuery, string? bearer = null, string? cookie = null, HttpClient? client = null)
    {
        using var response = await SendAsync(pathAndQuery, bearer, cookie, client);
        return response.StatusCode;
    }

    private async Task<EchoReply> GetEchoAsync(string pathAndQuery, string? bearer = null, string? cookie = null)
    {
        using var response = await SendAsync(pathAndQuery, bearer, cookie);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return TestBackend.ParseEcho(body);
    }
}
