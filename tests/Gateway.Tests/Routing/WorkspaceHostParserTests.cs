using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Routing;

public class WorkspaceHostParserTests
{
    private static WorkspaceHostParser Parser(string? domain)
    {
        var options = new TestOptions(new GatewayOptions { Routes = new RoutesOptions { WorkspaceDomain = domain } });
        return new WorkspaceHostParser(options, new WorkspacePathParser(options));
    }

    [Theory]
    [InlineData("abc.ws.example.com", "ws.example.com", "abc")]
    [InlineData("a-b9.ws.example.com", "ws.example.com", "a-b9")]
    [InlineData("abc.localhost:8080", "localhost:8080", "abc")]
    public void The_editor_lives_on_the_sid_label(string host, string domain, string sid)
    {
        var parsed = Parser(domain).Parse(host);

        Assert.Equal(WorkspaceHostKind.Editor, parsed.Kind);
        Assert.Equal(sid, host.Substring(parsed.SidStart, parsed.SidLength));
        Assert.Equal(0, parsed.Port);
    }

    [Theory]
    [InlineData("3000--abc.ws.example.com", "ws.example.com", 3000, "abc")]
    [InlineData("1--a.ws.example.com", "ws.example.com", 1, "a")]
    [InlineData("65535--a-b.localhost:8080", "localhost:8080", 65535, "a-b")]
    public void A_dev_server_lives_on_port_dash_dash_sid(string host, string domain, int port, string sid)
    {
        var parsed = Parser(domain).Parse(host);

        Assert.Equal(WorkspaceHostKind.Port, parsed.Kind);
        Assert.Equal(sid, host.Substring(parsed.SidStart, parsed.SidLength));
        Assert.Equal(port, parsed.Port);
    }

    [Theory]
    [InlineData("ws.example.com")] // the domain itself
    [InlineData("app.example.com")]
    [InlineData("localhost:8080")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("[::1]:8080")]
    [InlineData("abc.ws.example.com.evil.com")]
    [InlineData("abcws.example.com")]
    [InlineData("")]
    [InlineData(null)]
    public void Hosts_outside_the_domain_are_someone_elses(string? host) =>
        Assert.Equal(WorkspaceHostKind.NotWorkspaceHost, Parser("ws.example.com").Parse(host).Kind);

    [Theory]
    [InlineData("ABC.ws.example.com")] // upper case: a second spelling of an origin, and sids are case-sensitive
    [InlineData("abc.WS.example.com")]
    [InlineData("abc.ws.example.com.")] // trailing dot
    [InlineData("abc.ws.example.com:8443")] // port mismatch
    [InlineData("abc.ws.example.com:")]
    [InlineData("a.b.ws.example.com")] // too many labels
    [InlineData(".abc.ws.example.com")]
    [InlineData("abc..ws.example.com")]
    [InlineData("xn--bcher-kva.ws.example.com")] // punycode
    [InlineData("a_b.ws.example.com")] // valid on the path, not as a DNS label
    [InlineData("-abc.ws.example.com")]
    [InlineData("abc-.ws.example.com")]
    [InlineData("0--abc.ws.example.com")] // port out of range
    [InlineData("65536--abc.ws.example.com")]
    [InlineData("08080--abc.ws.example.com")] // leading zero
    [InlineData("+80--abc.ws.example.com")]
    [InlineData("3000--.ws.example.com")]
    [InlineData("--abc.ws.example.com")]
    [InlineData("3000--abc--x.ws.example.com")]
    [InlineData("3000---abc.ws.example.com")]
    [InlineData("abc\u00e9.ws.example.com")]
    public void Names_that_claim_the_domain_but_name_no_workspace_are_invalid(string host) =>
        Assert.Equal(WorkspaceHostKind.Invalid, Parser("ws.example.com").Parse(host).Kind);

    [Fact]
    public void A_label_longer_than_DNS_allows_is_invalid() =>
        Assert.Equal(WorkspaceHostKind.Invalid, Parser("ws.example.com").Parse(new string('a', 64) + ".ws.example.com").Kind);

    [Fact]
    public void Without_a_workspace_domain_nothing_is_routed_by_host()
    {
        var parser = Parser(null);

        Assert.False(parser.Enabled);
        Assert.Equal(WorkspaceHostKind.NotWorkspaceHost, parser.Parse("abc.ws.example.com").Kind);
    }

    [Fact]
    public void An_origin_belongs_to_its_own_sid_only()
    {
        var parser = Parser("ws.example.com");

        Assert.True(parser.IsOriginOf("abc.ws.example.com", "abc"));
        Assert.True(parser.IsOriginOf("3000--abc.ws.example.com", "abc"));
        Assert.False(parser.IsOriginOf("3000--abcd.ws.example.com", "abc"));
        Assert.False(parser.IsOriginOf("abc.ws.example.com", "ab"));
    }
}
