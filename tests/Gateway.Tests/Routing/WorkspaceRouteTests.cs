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
        Assert.True(WorkspaceRoute.TryParse("s", value, "", out var route));
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
        Assert.False(WorkspaceRoute.TryParse("s", value, "/srv/workspaces", out _));

    [Fact]
    public void A_unix_socket_under_the_configured_folder_becomes_a_destination_that_carries_its_path()
    {
        const string socket = "/srv/workspaces/ws-abcdefghijkl/.editor.sock";
        Assert.True(WorkspaceRoute.TryParse("s", "unix:" + socket, "/srv/workspaces", out var route));
        Assert.Equal("unix:" + socket, route!.Address);

        var destination = new Uri(route.DestinationPrefix + "/x");
        Assert.Equal("http", destination.Scheme);
        Assert.True(Gateway.Forwarding.UnixSocketHost.TryDecode(destination.Host, out var path));
        Assert.Equal(socket, path);
        Assert.False(Gateway.Forwarding.UnixSocketHost.TryDecode("10.1.2.3", out _));
    }

    [Fact]
    public void The_longest_socket_path_fits_a_host_name()
    {
        var socket = "/" + new string('a', Contracts.Routing.UnixSocketRoute.MaxPathBytes - 1);
        Assert.True(WorkspaceRoute.TryParse("s", "unix:" + socket, "/", out var route));
        var host = new Uri(route!.DestinationPrefix).Host;
        Assert.True(host.Length <= 253 && host.Split('.').All(label => label.Length is > 0 and <= 63), host);
        Assert.True(Gateway.Forwarding.UnixSocketHost.TryDecode(host, out var path));
        Assert.Equal(socket, path);
    }

    [Theory]
    [InlineData("unix:/srv/workspaces/ws-a/.editor.sock", "")]
    [InlineData("unix:/var/run/docker.sock", "/srv/workspaces")]
    [InlineData("unix:/srv/workspaces-evil/x.sock", "/srv/workspaces")]
    [InlineData("unix:/srv/workspaces/../run/docker.sock", "/srv/workspaces")]
    [InlineData("unix:/srv/workspaces//ws-a/.editor.sock", "/srv/workspaces")]
    [InlineData("unix:srv/workspaces/ws-a/.editor.sock", "/srv/workspaces")]
    [InlineData("unix:/srv/workspaces", "/srv/workspaces")]
    [InlineData("unix:/srv/workspaces/ws-a/\n.sock", "/srv/workspaces")]
    public void A_unix_socket_outside_the_folder_or_not_spelled_plainly_is_rejected(string value, string folder) =>
        Assert.False(WorkspaceRoute.TryParse("s", value.Replace("\\n", "\n", StringComparison.Ordinal), folder, out _));
}
