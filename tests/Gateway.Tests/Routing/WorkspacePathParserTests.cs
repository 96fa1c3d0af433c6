using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Routing;

public class WorkspacePathParserTests
{
    private readonly WorkspacePathParser _parser = new(new TestOptions(new GatewayOptions()));

    [Theory]
    [InlineData("/ws/abc/", "abc")]
    [InlineData("/ws/abc/index.html", "abc")]
    [InlineData("/ws/A-b_9/static/x.js", "A-b_9")]
    [InlineData("/ws/abc/proxy/8080/", "abc")]
    [InlineData("/ws/abc/proxy/1/x", "abc")]
    [InlineData("/ws/abc/absproxy/65535/deep/path", "abc")]
    [InlineData("/ws/abc/proxy/3000", "abc")]
    [InlineData("/ws/abc/PROXY/3000/", "abc")]
    [InlineData("/ws/abc/proxy", "abc")]
    [InlineData("/ws/abc/proxyx/notaport/", "abc")]
    public void Workspace_paths_yield_their_sid(string path, string sid)
    {
        var parsed = _parser.Parse(path);

        Assert.Equal(WorkspacePathKind.Workspace, parsed.Kind);
        Assert.Equal(sid, path.Substring(WorkspacePath.SidStart, parsed.SidLength));
        Assert.Equal("/ws/" + sid, path[..parsed.PrefixLength]);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/ws")]
    [InlineData("/WS/abc/")]
    [InlineData("/api/ws/abc/")]
    [InlineData("/wsx/abc/")]
    public void Other_paths_are_not_workspaces(string path) =>
        Assert.Equal(WorkspacePathKind.NotWorkspace, _parser.Parse(path).Kind);

    [Fact]
    public void A_sid_without_trailing_slash_is_flagged_for_redirect() =>
        Assert.Equal(WorkspacePathKind.MissingTrailingSlash, _parser.Parse("/ws/abc").Kind);

    [Theory]
    [InlineData("/ws/")]
    [InlineData("/ws//x")]
    [InlineData("/ws/a.b/")]
    [InlineData("/ws/a%2Fb/")]
    [InlineData("/ws/a b/")]
    [InlineData("/ws/a|b/")]
    [InlineData("/ws/\u00e9t\u00e9/")]
    [InlineData("/ws/..")]
    [InlineData("/ws/a\0b/")]
    public void Malformed_sids_are_rejected(string path) =>
        Assert.Equal(WorkspacePathKind.InvalidSid, _parser.Parse(path).Kind);

    [Fact]
    public void Sids_longer_than_the_limit_are_rejected()
    {
        Assert.Equal(WorkspacePathKind.Workspace, _parser.Parse("/ws/" + new string('a', 64) + "/").Kind);
        Assert.Equal(WorkspacePathKind.InvalidSid, _parser.Parse("/ws/" + new string('a', 65) + "/").Kind);
    }

    [Theory]
    [InlineData("/ws/abc/proxy/0/")]
    [InlineData("/ws/abc/proxy/65536/")]
    [InlineData("/ws/abc/proxy/99999/")]
    [InlineData("/ws/abc/proxy/123456/")]
    [InlineData("/ws/abc/proxy/abc/")]
    [InlineData("/ws/abc/proxy/-1/")]
    [InlineData("/ws/abc/proxy/+80/")]
    [InlineData("/ws/abc/proxy/8080x/")]
    [InlineData("/ws/abc/proxy//")]
    [InlineData("/ws/abc/proxy/")]
    [InlineData("/ws/abc/absproxy/0")]
    [InlineData("/ws/abc/absproxy/%38%30/")]
    [InlineData("/ws/abc/AbsProxy/70000/")]
    public void Bad_proxy_ports_are_rejected(string path) =>
        Assert.Equal(WorkspacePathKind.InvalidPort, _parser.Parse(path).Kind);

    [Fact]
    public void Allowed_characters_and_length_come_from_settings()
    {
        var parser = new WorkspacePathParser(new TestOptions(new GatewayOptions
        {
            Routes = new RoutesOptions { SidCharacters = "0123456789abcdef", SidMaxLength = 8 },
        }));

        Assert.Equal(WorkspacePathKind.Workspace, parser.Parse("/ws/deadbeef/").Kind);
        Assert.Equal(WorkspacePathKind.InvalidSid, parser.Parse("/ws/deadbeefa/").Kind);
        Assert.Equal(WorkspacePathKind.InvalidSid, parser.Parse("/ws/xyz/").Kind);
    }
}
