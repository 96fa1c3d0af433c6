using System.Net;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Routing;

namespace Gateway.Tests.Workbench;

/// <summary>With the gateway's defaults: the fast path serves what it takes, the YARP way the rest.</summary>
public sealed class WorkbenchNoticeTests(HostGatewayWithBackends env) : WorkbenchNoticeTests<HostGatewayWithBackends>(env);

/// <summary>The same with the fast path off: every request the YARP way, which the fast path must match.</summary>
public sealed class WorkbenchNoticeTestsThroughYarp(YarpHostGatewayWithBackends env) : WorkbenchNoticeTests<YarpHostGatewayWithBackends>(env);

/// <summary>
/// The platform's script in the editor's page, through a real gateway and backend: the page carries its tag,
/// the gateway serves it under the editor's address, and nothing else the workspace answers is touched. That
/// the script shows a stopped workspace in the real editor is the end-to-end test's.
/// </summary>
public abstract class WorkbenchNoticeTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : HostGatewayWithBackends
{
    private const string Tag = "<script src=\"_cloud-ide/workbench-notice.js\"></script>";

    [Theory]
    [InlineData("")]
    [InlineData("&unsized=1")]
    public async Task The_editors_page_by_path_carries_the_script_right_after_its_head_and_is_fetched_uncompressed(string framing)
    {
        var sid = await env.RouteAsync(env.A);

        using var page = await env.SendAsync("localhost", $"/ws/{sid}/?folder=/user_data/workspace{framing}", cookie: "gw_session=" + TestTickets.Session(sid),
            headers: ["Accept: text/html,application/xhtml+xml", "Accept-Encoding: gzip, br"]);
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(TestBackend.WorkbenchPage("A").Replace("<HEAD lang=\"en\">", "<HEAD lang=\"en\">" + Tag, StringComparison.Ordinal), html);
        Assert.Equal(html.Length, page.Content.Headers.ContentLength);
        Assert.Equal("", page.Headers.GetValues("X-Accept-Encoding-Seen").Single());
    }

    [Fact]
    public async Task The_editors_page_on_its_own_origin_carries_it_and_the_script_is_served_there()
    {
        var sid = await env.RouteAsync(env.A);
        var host = $"{sid}.{HostGatewayWithBackends.Domain}";
        var cookie = "gw_session=" + TestTickets.Session(sid);

        using var page = await env.SendAsync(host, "/?folder=/user_data/workspace", cookie: cookie, headers: ["Accept: text/html"]);
        Assert.Contains(Tag, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var before = env.A.Requests;
        using var script = await env.SendAsync(host, "/_cloud-ide/workbench-notice.js", cookie: cookie, headers: ["Accept: */*"]);
        var body = await script.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Contains("The workspace was stopped", body, StringComparison.Ordinal);
        Assert.Equal(before, env.A.Requests);
    }

    [Fact]
    public async Task The_owners_ticket_gives_the_page_the_workspaces_name_for_the_welcome_as_text_never_markup()
    {
        var sid = await env.RouteAsync(env.A);
        var host = $"{sid}.{HostGatewayWithBackends.Domain}";
        var claims = TestTickets.Claims(sid, "user-1", TestTickets.Audience, TimeSpan.FromMinutes(2));
        claims["workspace_name"] = "my \"project\"><script>alert(1)</script>";

        using var redeemed = await env.SendAsync(host, $"/?ticket={TestTickets.Hs256(claims)}", headers: ["Accept: text/html"]);
        Assert.Equal(HttpStatusCode.SeeOther, redeemed.StatusCode);
        var cookie = redeemed.Headers.GetValues("Set-Cookie").Single().Split("; ")[0];
        using var page = await env.SendAsync(host, "/?folder=/user_data/workspace", cookie: cookie, headers: ["Accept: text/html"]);

        Assert.Contains(
            "<script src=\"_cloud-ide/workbench-notice.js\" data-workspace-name=\"my &quot;project&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"></script>",
            await page.Content.ReadAsStringAsync(),
            StringComparison.Ordinal);

        // A session from a ticket without a name (an older web API's): the tag as before.
        using var unnamed = await env.SendAsync(host, "/?folder=/user_data/workspace", cookie: "gw_session=" + TestTickets.Session(sid), headers: ["Accept: text/html"]);
        Assert.Contains(Tag, await unnamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_script_is_served_only_to_whom_the_editor_is()
    {
        var sid = await env.RouteAsync(env.A);

        using var stranger = await env.SendAsync("localhost", $"/ws/{sid}/_cloud-ide/workbench-notice.js", headers: ["Accept: */*"]);

        Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);
    }

    [Fact]
    public async Task Nothing_else_is_edited_a_dev_servers_root_a_program_or_a_page_too_large_to_be_the_editors()
    {
        var sid = await env.RouteAsync(env.A);
        var cookie = "gw_session=" + TestTickets.Session(sid);

        using var json = await env.SendAsync("localhost", $"/ws/{sid}/", cookie: cookie);
        Assert.Equal("A", (await HostGatewayWithBackends.EchoOf(json)).Backend);

        foreach (var framing in new[] { "", "&unsized=1" })
        {
            using var large = await env.SendAsync("localhost", $"/ws/{sid}/?padding=300000{framing}", cookie: cookie, headers: ["Accept: text/html"]);
            Assert.Equal(TestBackend.WorkbenchPage("A", 300_000), await large.Content.ReadAsStringAsync());
        }

        // A dev server's root on its own origin is the user's app, not the editor.
        var port = $"3000--{sid}.{HostGatewayWithBackends.Domain}";
        using var app = await env.SendAsync(port, "/", cookie: cookie, headers: ["Accept: text/html"]);
        Assert.Equal(TestBackend.WorkbenchPage("A"), await app.Content.ReadAsStringAsync());
    }
}
