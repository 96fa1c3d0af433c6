using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Routing;

/// <summary>
/// A workspace's dev-server ports shared on purpose (private, authenticated, public), read by the gateway
/// from Redis hash <c>shares</c> with the route, over real sockets.
/// </summary>
public sealed class PortSharingTests(HostGatewayWithBackends env) : IClassFixture<HostGatewayWithBackends>
{
    private const string Domain = HostGatewayWithBackends.Domain;

    [Fact]
    public async Task A_private_port_opens_for_its_owner_only()
    {
        var sid = await env.RouteAsync(env.A);
        var host = $"3000--{sid}.{Domain}";

        using var owner = await env.SendAsync(host, "/", cookie: "gw_session=" + TestTickets.Session(sid));
        using var signedIn = await env.SendAsync(host, "/", cookie: "gw_session=" + TestTickets.PortSession(sid, 3000));
        using var stranger = await env.SendAsync(host, "/");

        Assert.Equal("A", (await HostGatewayWithBackends.EchoOf(owner)).Backend);
        Assert.Equal(HttpStatusCode.Forbidden, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);
    }

    [Fact]
    public async Task An_authenticated_port_opens_for_a_signed_in_user_with_a_ticket_for_that_port_only()
    {
        var sid = await env.RouteAsync(env.A);
        await SetSharesAsync(sid, "3000=authenticated");
        var host = $"3000--{sid}.{Domain}";

        using var handOff = await env.SendAsync(host, $"/app?ticket={TestTickets.PortTicket(sid, 3000)}");
        Assert.Equal(HttpStatusCode.SeeOther, handOff.StatusCode);
        Assert.Equal("/app", handOff.Headers.Location!.OriginalString);
        var cookie = handOff.Headers.GetValues("Set-Cookie").Single().Split("; ")[0];

        using var withCookie = await env.SendAsync(host, "/app", cookie: cookie);
        var echo = await HostGatewayWithBackends.EchoOf(withCookie);
        Assert.Equal(("A", "/proxy/3000/app"), (echo.Backend, echo.RawTarget));

        // The same user's port credential opens nothing else of the workspace.
        var session = cookie["gw_session=".Length..];
        using var otherPort = await env.SendAsync($"8080--{sid}.{Domain}", "/", cookie: "gw_session=" + session);
        using var editor = await env.SendAsync($"{sid}.{Domain}", "/", cookie: "gw_session=" + session);
        using var editorByPath = await env.SendAsync("localhost", $"/ws/{sid}/", cookie: "gw_session=" + session);
        using var asBearer = await env.SendAsync("localhost", $"/ws/{sid}/proxy/3000/", headers: "Authorization: Bearer " + TestTickets.PortTicket(sid, 3000));
        using var ticketForAnotherPort = await env.SendAsync(host, $"/?ticket={TestTickets.PortTicket(sid, 8080)}");

        Assert.Equal(
            [HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden],
            new[] { otherPort, editor, editorByPath, asBearer, ticketForAnotherPort }.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task A_browser_without_a_credential_is_sent_to_sign_in_and_told_where_to_come_back()
    {
        var sid = await env.RouteAsync(env.A);
        await SetSharesAsync(sid, "3000=authenticated");

        using var navigation = await env.SendAsync($"3000--{sid}.{Domain}", "/page?x=1", headers: ["Accept: text/html", "Sec-Fetch-Mode: navigate"]);
        using var script = await env.SendAsync($"3000--{sid}.{Domain}", "/api/data");

        Assert.Equal(HttpStatusCode.Found, navigation.StatusCode);
        Assert.Equal(
            HostGatewayWithBackends.LoginUrl + "?returnTo=" + Uri.EscapeDataString($"http://3000--{sid}.{Domain}/page?x=1"),
            navigation.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, script.StatusCode);
    }

    [Fact]
    public async Task A_public_port_opens_for_anyone_and_the_editor_and_other_ports_stay_private()
    {
        var sid = await env.RouteAsync(env.A);
        await SetSharesAsync(sid, "3000=public");

        using var anyone = await env.SendAsync($"3000--{sid}.{Domain}", "/?q=1");
        using var withAnotherWorkspacesCookie = await env.SendAsync($"3000--{sid}.{Domain}", "/", cookie: "gw_session=" + TestTickets.Session("wsomeoneelse"));
        using var editor = await env.SendAsync($"{sid}.{Domain}", "/");
        using var otherPort = await env.SendAsync($"8080--{sid}.{Domain}", "/");

        var echo = await HostGatewayWithBackends.EchoOf(anyone);
        Assert.Equal(("A", "/proxy/3000/?q=1"), (echo.Backend, echo.RawTarget));
        Assert.Equal("A", (await HostGatewayWithBackends.EchoOf(withAnotherWorkspacesCookie)).Backend);
        Assert.Equal(HttpStatusCode.Unauthorized, editor.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherPort.StatusCode);
    }

    [Fact]
    public async Task A_public_link_to_a_stopped_workspace_says_not_running_and_a_private_one_says_nothing()
    {
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await SetSharesAsync(sid, "3000=public");

        using var shared = await env.SendAsync($"3000--{sid}.{Domain}", "/");
        using var unshared = await env.SendAsync($"8080--{sid}.{Domain}", "/");
        using var unknown = await env.SendAsync($"8080--wnosuchworkspace.{Domain}", "/");

        Assert.Equal(HttpStatusCode.NotFound, shared.StatusCode);
        Assert.Equal("workspace_not_running", (await shared.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, unshared.StatusCode);
        Assert.Equal(await unknown.Content.ReadAsStringAsync(), (await unshared.Content.ReadAsStringAsync()).Replace(sid, "wnosuchworkspace", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Making_a_port_private_again_refuses_the_next_request_and_ends_its_open_WebSockets()
    {
        var sid = await env.RouteAsync(env.A);
        await SetSharesAsync(sid, "3000=public,8080=authenticated");
        using var publicSocket = await ConnectAsync($"3000--{sid}.{Domain}", cookie: null);
        using var signedInSocket = await ConnectAsync($"8080--{sid}.{Domain}", cookie: "gw_session=" + TestTickets.PortSession(sid, 8080));
        using var ownerSocket = await ConnectAsync($"3000--{sid}.{Domain}", cookie: "gw_session=" + TestTickets.Session(sid));
        Assert.Equal("A:hi", await publicSocket.EchoAsync("hi"));
        Assert.Equal("A:hi", await signedInSocket.EchoAsync("hi"));

        await SetSharesAsync(sid, "");

        using var stranger = await env.SendAsync($"3000--{sid}.{Domain}", "/");
        using var signedIn = await env.SendAsync($"8080--{sid}.{Domain}", "/", cookie: "gw_session=" + TestTickets.PortSession(sid, 8080));
        Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, signedIn.StatusCode);
        await AssertClosedAsync(publicSocket);
        await AssertClosedAsync(signedInSocket);
        Assert.Equal("A:still", await ownerSocket.EchoAsync("still"));
    }

    [Fact]
    public async Task Authenticated_to_public_and_back_keeps_a_signed_in_users_socket_and_ends_an_anonymous_one()
    {
        var sid = await env.RouteAsync(env.A);
        await SetSharesAsync(sid, "3000=public");
        using var anonymous = await ConnectAsync($"3000--{sid}.{Domain}", cookie: null);
        using var signedIn = await ConnectAsync($"3000--{sid}.{Domain}", cookie: "gw_session=" + TestTickets.PortSession(sid, 3000));

        await SetSharesAsync(sid, "3000=authenticated");

        await AssertClosedAsync(anonymous);
        Assert.Equal("A:kept", await signedIn.EchoAsync("kept"));
    }

    [Fact]
    public async Task A_preflight_to_a_public_port_is_the_apps_to_answer()
    {
        var sid = await env.RouteAsync(env.A);
        await SetSharesAsync(sid, "3000=public");
        var before = env.A.Requests;

        using var response = await env.SendAsync(
            $"3000--{sid}.{Domain}", "/api/items", method: HttpMethod.Options,
            headers: ["Origin: https://elsewhere.example", "Access-Control-Request-Method: PUT"]);

        var echo = await HostGatewayWithBackends.EchoOf(response);
        Assert.Equal(("A", "/proxy/3000/api/items"), (echo.Backend, echo.RawTarget));
        Assert.Equal(before + 1, env.A.Requests);
    }

    /// <summary>Writes the sharing the way the operator does (hash <c>shares</c>, then the sid published) and waits until the gateway has it.</summary>
    private async Task SetSharesAsync(string sid, string shares)
    {
        await env.Writer.SetSharesAsync(sid, shares);
        await env.Writer.PublishAsync(sid);

        // A stranger's view of a port changes exactly when the gateway took the notice.
        var probe = PortShares(shares);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await env.SendAsync($"{probe.Port}--{sid}.{Domain}", "/");
            var isPublic = response.StatusCode is not HttpStatusCode.Unauthorized;
            if (isPublic == probe.Public)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"sharing '{shares}' of {sid} not seen within 5 s");
            await Task.Delay(50);
        }
    }

    // The port whose stranger's view shows the change: the first public one, or 3000 going non-public.
    private static (int Port, bool Public) PortShares(string shares)
    {
        foreach (var part in shares.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.EndsWith("=public", StringComparison.Ordinal))
            {
                return (int.Parse(part[..part.IndexOf('=', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture), true);
            }
        }

        return (3000, false);
    }

    private async Task<ClientWebSocket> ConnectAsync(string host, string? cookie)
    {
        var gateway = env.Gateway.Address;
        var socket = new ClientWebSocket();
        if (cookie is not null)
        {
            socket.Options.SetRequestHeader("Cookie", cookie);
        }

        // The URI names the workspace's host; the connection goes to the gateway on loopback. The handler
        // stays with the socket (its connection is the socket's stream).
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await tcp.ConnectAsync(gateway.Host, gateway.Port, token);
                return new NetworkStream(tcp, ownsSocket: true);
            },
        };
        await socket.ConnectAsync(new Uri($"ws://{host}/socket"), new HttpMessageInvoker(handler), CancellationToken.None);
        return socket;
    }

    private static async Task AssertClosedAsync(ClientWebSocket socket)
    {
        var buffer = new byte[256];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (WebSocketException)
        {
            // Aborted: closed as well.
        }
    }
}
