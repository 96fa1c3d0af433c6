using System.Net;
using System.Net.WebSockets;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Routing;

/// <summary>
/// A workspace whose route is a Unix socket (<c>unix:&lt;path&gt;</c>, the local driver's editors) is served
/// like one on <c>host:port</c>: requests, WebSockets, code-server's port proxy; a socket outside
/// <c>Gateway:Routes:UnixSocketDirectory</c> is never connected to.
/// </summary>
public sealed class UnixSocketRouteTests : IAsyncLifetime
{
    private readonly DirectoryInfo _sockets = Directory.CreateTempSubdirectory("gw-sockets");
    private readonly DirectoryInfo _elsewhere = Directory.CreateTempSubdirectory("gw-elsewhere");
    private readonly RedisServer _redis = new();
    private RedisTestClient _writer = null!;
    private TestBackend _editor = null!;
    private TestBackend _outside = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _writer = _redis.Connect();
        _editor = await TestBackend.StartOnUnixSocketAsync("U", Path.Combine(_sockets.FullName, "ws-unix", ".editor.sock").EnsureFolder());
        _outside = await TestBackend.StartOnUnixSocketAsync("X", Path.Combine(_elsewhere.FullName, "other.sock"));
        _gateway = await GatewayHost.StartAsync(_redis, $"--Gateway:Routes:UnixSocketDirectory={_sockets.FullName}");
    }

    [Fact]
    public async Task Requests_websockets_and_the_port_proxy_reach_an_editor_on_a_socket()
    {
        await _writer.SetRouteAsync("ws-unix", _editor.Address);

        Assert.Equal("U", await _gateway.Client.BackendOfAsync("ws-unix"));
        using (var devServer = await _gateway.Client.GetAsync(new Uri("/ws/ws-unix/proxy/3000/app.js", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, devServer.StatusCode);
            Assert.Equal("/proxy/3000/app.js", TestBackend.ParseEcho(await devServer.Content.ReadAsStringAsync()).Path);
        }

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(_gateway.WebSocketUri("/ws/ws-unix/socket"), CancellationToken.None);
        Assert.Equal("U:over a socket", await socket.EchoAsync("over a socket"));
    }

    [Fact]
    public async Task A_socket_outside_the_folder_is_never_connected_to()
    {
        await _writer.SetRouteAsync("ws-escape", _outside.Address);
        await _writer.SetRouteAsync("ws-dots", $"unix:{_sockets.FullName}/../{_elsewhere.Name}/other.sock");

        foreach (var sid in new[] { "ws-escape", "ws-dots" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/") { Headers = { { "Accept", "application/json" } } };
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Contains("workspace_route_invalid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(0, _outside.Requests);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _editor.DisposeAsync();
        await _outside.DisposeAsync();
        _writer.Dispose();
        await _redis.DisposeAsync();
        _sockets.Delete(recursive: true);
        _elsewhere.Delete(recursive: true);
    }
}

internal static class SocketPaths
{
    /// <summary>Creates the folder the path is in; returns the path.</summary>
    public static string EnsureFolder(this string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
