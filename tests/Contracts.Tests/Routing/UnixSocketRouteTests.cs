using Contracts.Routing;

namespace Contracts.Tests.Routing;

public sealed class UnixSocketRouteTests
{
    [Fact]
    public void A_route_written_by_the_operator_reads_back_as_its_socket_path()
    {
        var route = UnixSocketRoute.Format("/var/lib/cloud-ide/workspaces/.sockets/2000000/editor.sock");

        Assert.Equal("unix:/var/lib/cloud-ide/workspaces/.sockets/2000000/editor.sock", route);
        Assert.True(UnixSocketRoute.TryParse(route, out var path));
        Assert.Equal("/var/lib/cloud-ide/workspaces/.sockets/2000000/editor.sock", path);
    }

    // A prefix check on the path (the gateway follows only its own folder) means what it says only for a
    // normalised absolute path; a path the kernel cannot connect to is refused here rather than at connect.
    [Theory]
    [InlineData("10.1.2.3:9999")]
    [InlineData("unix:relative/editor.sock")]
    [InlineData("unix:/data/workspaces/../../etc/editor.sock")]
    [InlineData("unix:/data//workspaces/editor.sock")]
    [InlineData("unix:/data/workspaces/")]
    [InlineData("unix:/data/work\nspaces/editor.sock")]
    [InlineData("unix:/")]
    public void Anything_but_a_normalised_absolute_path_is_not_a_socket_route(string value) =>
        Assert.False(UnixSocketRoute.TryParse(value, out _));

    [Fact]
    public void A_path_longer_than_a_socket_address_holds_is_refused()
    {
        var longest = "/" + new string('a', UnixSocketRoute.MaxPathBytes - 1);

        Assert.True(UnixSocketRoute.TryParse(UnixSocketRoute.Format(longest), out _));
        Assert.False(UnixSocketRoute.TryParse(UnixSocketRoute.Format(longest + "a"), out _));
    }
}
