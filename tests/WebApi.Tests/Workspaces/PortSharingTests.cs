using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Workspaces;

/// <summary>
/// Sharing a dev-server port from the web API through the operator to the gateway (real programs, real
/// Redis): the owner sets the level, another signed-in user or a stranger reaches the port or not.
/// </summary>
public sealed class PortSharingTests(HostRoutingPlatform platform) : IClassFixture<HostRoutingPlatform>
{
    [Fact]
    public async Task A_port_shared_publicly_opens_for_a_stranger_and_private_again_refuses_within_the_propagation_time()
    {
        using var alice = await platform.NewUserAsync();
        var sid = await CreateRunningAsync(alice);
        var portHost = $"3000--{sid}.{HostRoutingPlatform.Domain}";
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(portHost, "/"));

        using var shared = await alice.PutAsJsonAsync($"/api/workspaces/{sid}/ports/3000", new { sharing = "public" });
        Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
        var view = (await shared.Content.ReadFromJsonAsync<WorkspaceDto>())!;
        Assert.Equal([new PortDto(3000, "public", $"http://{portHost}/")], view.Ports);

        await Eventually.TrueAsync(async () => await StatusAsync(portHost, "/app") == HttpStatusCode.OK, "the public port opens for anyone");
        using (var page = await SendAsync(portHost, "/app"))
        {
            var text = await page.Content.ReadAsStringAsync();
            Assert.StartsWith("dev server on 3000 in ", text, StringComparison.Ordinal);
            Assert.Contains(sid, text, StringComparison.Ordinal);
            Assert.EndsWith(": /app", text, StringComparison.Ordinal);
        }

        using var unshared = await alice.PutAsJsonAsync($"/api/workspaces/{sid}/ports/3000", new { sharing = "private" });
        Assert.Empty((await unshared.Content.ReadFromJsonAsync<WorkspaceDto>())!.Ports);
        await Eventually.TrueAsync(async () => await StatusAsync(portHost, "/app") == HttpStatusCode.Unauthorized, "the port is private again");
    }

    // What the page lists: the ports listening now (the operator looks; the stand-in editor listens on none of
    // its own) and the shared ones, each with its level and address; private ones stay listed as private.
    [Fact]
    public async Task The_owner_sees_each_port_with_its_level_and_address_and_no_one_else_does()
    {
        using var alice = await platform.NewUserAsync();
        using var mallory = await platform.NewUserAsync();
        var sid = await CreateRunningAsync(alice);

        var none = (await alice.GetFromJsonAsync<PortsDto>($"/api/workspaces/{sid}/ports"))!;
        Assert.True(none.Detected, "the local driver looks for listening ports");
        Assert.Empty(none.Ports);

        (await alice.PutAsJsonAsync($"/api/workspaces/{sid}/ports/3000", new { sharing = "authenticated" })).EnsureSuccessStatusCode();
        var shared = (await alice.GetFromJsonAsync<PortsDto>($"/api/workspaces/{sid}/ports"))!;
        Assert.Equal([new PortStateDto(3000, "authenticated", $"http://3000--{sid}.{HostRoutingPlatform.Domain}/", Listening: false)], shared.Ports);

        using var foreign = await mallory.GetAsync($"/api/workspaces/{sid}/ports");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }

    [Fact]
    public async Task A_port_shared_with_signed_in_users_opens_with_the_ticket_the_web_API_gives_any_of_them()
    {
        using var alice = await platform.NewUserAsync();
        using var bob = await platform.NewUserAsync();
        var sid = await CreateRunningAsync(alice);
        var returnTo = $"http://8080--{sid}.{HostRoutingPlatform.Domain}/dashboard?tab=2";

        // Private: bob gets the same answer as for a workspace that does not exist.
        using var before = await bob.PostAsJsonAsync("/api/tickets", new { returnTo });
        using var unknown = await bob.PostAsJsonAsync("/api/tickets", new { returnTo = $"http://8080--ws-aaaaaaaaaaaa.{HostRoutingPlatform.Domain}/" });
        Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        Assert.Equal((await unknown.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, (await before.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);

        using var shared = await alice.PutAsJsonAsync($"/api/workspaces/{sid}/ports/8080", new { sharing = "authenticated" });
        Assert.Equal(HttpStatusCode.OK, shared.StatusCode);

        var ticketed = (await (await bob.PostAsJsonAsync("/api/tickets", new { returnTo })).Content.ReadFromJsonAsync<OpenDto>())!.Url;
        Assert.StartsWith(returnTo + "&ticket=", ticketed, StringComparison.Ordinal);

        // Bob's ticket opens that port (a cookie for that origin), never the editor.
        // The gateway follows the new level within its propagation time: until then the port is still private.
        HttpResponseMessage? handOff = null;
        await Eventually.TrueAsync(
            async () =>
            {
                handOff?.Dispose();
                handOff = await SendAsync($"8080--{sid}.{HostRoutingPlatform.Domain}", new Uri(ticketed).PathAndQuery);
                return handOff.StatusCode == HttpStatusCode.SeeOther;
            },
            "bob's ticket is taken once the sharing has reached the gateway");
        var cookie = handOff!.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        handOff.Dispose();
        await Eventually.TrueAsync(async () => await StatusAsync($"8080--{sid}.{HostRoutingPlatform.Domain}", "/dashboard", cookie) == HttpStatusCode.OK, "bob reaches the port");
        var bobsEditorTicket = new Uri(ticketed).Query.Split("ticket=")[1];
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"{sid}.{HostRoutingPlatform.Domain}", "/?ticket=" + bobsEditorTicket));

        // The owner's own editor ticket goes to the editor's origin.
        var editor = (await (await alice.PostAsync($"/api/workspaces/{sid}/open", null)).Content.ReadFromJsonAsync<OpenDto>())!.Url;
        Assert.StartsWith($"http://{sid}.{HostRoutingPlatform.Domain}/?ticket=", editor, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_owner_changes_sharing_and_bad_requests_say_what_is_wrong()
    {
        using var alice = await platform.NewUserAsync();
        using var mallory = await platform.NewUserAsync();
        var sid = await CreateRunningAsync(alice);

        using var byOther = await mallory.PutAsJsonAsync($"/api/workspaces/{sid}/ports/3000", new { sharing = "public" });
        Assert.Equal(HttpStatusCode.NotFound, byOther.StatusCode);
        Assert.Empty((await alice.GetFromJsonAsync<WorkspaceDto>($"/api/workspaces/{sid}"))!.Ports);

        foreach (var (port, sharing, field) in new[] { ("0", "public", "port"), ("65536", "public", "port"), ("03000", "public", "port"), ("x", "public", "port"), ("3000", "everyone", "sharing"), ("3000", "", "sharing") })
        {
            using var bad = await alice.PutAsJsonAsync($"/api/workspaces/{sid}/ports/{port}", new { sharing });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains(field, (await bad.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        }

        using var elsewhere = await alice.PostAsJsonAsync("/api/tickets", new { returnTo = "https://evil.example/" });
        Assert.Equal(HttpStatusCode.BadRequest, elsewhere.StatusCode);
    }

    private static async Task<string> CreateRunningAsync(HttpClient owner)
    {
        using var created = await owner.PostAsJsonAsync("/api/workspaces", new { name = "shared " + Guid.NewGuid().ToString("N")[..6], template = "go", spec = "1C2G5G", start = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<WorkspaceDto>())!.Sid;
    }

    private async Task<HttpResponseMessage> SendAsync(string host, string pathAndQuery, string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(platform.Gateway.Address, pathAndQuery));
        request.Headers.Host = host;
        request.Headers.Accept.ParseAdd("application/json");
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        return await platform.Gateway.Client.SendAsync(request);
    }

    private async Task<HttpStatusCode> StatusAsync(string host, string pathAndQuery, string? cookie = null)
    {
        using var response = await SendAsync(host, pathAndQuery, cookie);
        return response.StatusCode;
    }

    private sealed record PortDto(int Port, string Sharing, string? Url);

    private sealed record WorkspaceDto(string Sid, string State, PortDto[] Ports);

    private sealed record PortsDto(bool Detected, PortStateDto[] Ports);

    private sealed record PortStateDto(int Port, string Sharing, string? Url, bool Listening);

    private sealed record OpenDto(string Url);
}
