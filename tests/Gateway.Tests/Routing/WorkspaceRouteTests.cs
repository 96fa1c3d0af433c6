using Gateway.Routing;

namespace Gateway.Tests.Routing;

public class WorkspaceRouteTests
{
    [Theory]
    [InlineData("10.1.2.3:9999", "http://10.1.2.3:9999")]
    [InlineData("127.0.0.1:1", "http://127.0.0.1:1")]
    [InlineData("[::1]:8080", "http://[::1]:8080")]
    [InlineData("ws-1.default.svc:9999", "http://ws-1.default.svc:9999")]
    public void Host_and_port_values_become_destinations(string value, string prefix)
    {
        Assert.True(WorkspaceRoute.TryParse("s", value, out var route));
        Assert.Equal(prefix, route!.DestinationPrefix);
        Assert.Equal(value, route.Address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.1.2.3")]
    [InlineData("10.1.2.3:")]
    [InlineData(":9999")]
    [InlineData("10.1.2.3:0")]
    [InlineData("10.1.2.3:65536")]
    [InlineData("10.1.2.3:99a")]
    [InlineData("10.1.2.3:+80")]
    [InlineData("10.1.2.3:80/evil")]
    [InlineData("user@10.1.2.3:80")]
    [InlineData("evil.com/x?:80")]
    [InlineData("::1:8080")]
    [InlineData("http://10.1.2.3:80")]
    [InlineData("a b:80")]
    public void Anything_else_is_rejected(string value) =>
        Assert.False(WorkspaceRoute.TryParse("s", value, out _));
}
