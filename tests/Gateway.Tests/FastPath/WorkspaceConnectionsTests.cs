using System.Net;
using System.Net.Sockets;
using Gateway.FastPath;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.FastPath;

/// <summary>The fast path's connections to workspaces, against real listening sockets (TCP and Unix).</summary>
public sealed class WorkspaceConnectionsTests : IDisposable
{
    private readonly Listener _workspace = Listener.Tcp();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public async Task A_returned_connection_serves_the_next_request_and_another_address_never_shares_it()
    {
        using var connections = new WorkspaceConnections(TimeProvider.System, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), maxIdlePerAddress: 8, checkAfter: TimeSpan.Zero);
        using var other = Listener.Tcp();

        var first = await connections.RentAsync(_workspace.Address, CancellationToken.None);
        connections.Return(_workspace.Address, first);
        var second = await connections.RentAsync(_workspace.Address, CancellationToken.None);
        var elsewhere = await connections.RentAsync(other.Address, CancellationToken.None);

        Assert.Same(first, second);
        Assert.NotSame(first, elsewhere);
        await RedisSentinelGroup.WaitUntilAsync(() => Task.FromResult(_workspace.Accepted == 1 && other.Accepted == 1), "one connection to each", TimeSpan.FromSeconds(5));
        Assert.Equal(2, connections.Open);
    }

    [Fact]
    public async Task A_connection_the_workspace_closed_or_wrote_to_while_idle_is_not_handed_out()
    {
        using var connections = new WorkspaceConnections(TimeProvider.System, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), maxIdlePerAddress: 8, checkAfter: TimeSpan.Zero);
        var closed = await connections.RentAsync(_workspace.Address, CancellationToken.None);
        var talking = await connections.RentAsync(_workspace.Address, CancellationToken.None);
        connections.Return(_workspace.Address, closed);
        connections.Return(_workspace.Address, talking);
        await RedisSentinelGroup.WaitUntilAsync(() => Task.FromResult(_workspace.Accepted == 2), "both connected", TimeSpan.FromSeconds(5));

        _workspace.Server(0).Close();
        await _workspace.Server(1).GetStream().WriteAsync("HTTP/1.1 200 OK\r\n"u8.ToArray());
        await Task.Delay(200);

        var fresh = await connections.RentAsync(_workspace.Address, CancellationToken.None);

        Assert.NotSame(closed, fresh);
        Assert.NotSame(talking, fresh);
        await RedisSentinelGroup.WaitUntilAsync(() => Task.FromResult(_workspace.Accepted == 3), "a new connection was made", TimeSpan.FromSeconds(5));
        Assert.Equal(1, connections.Open);
    }

    [Fact]
    public async Task Idle_connections_are_closed_after_the_idle_timeout_and_beyond_the_limit_at_once()
    {
        using var connections = new WorkspaceConnections(TimeProvider.System, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300), maxIdlePerAddress: 2, checkAfter: TimeSpan.Zero);
        var rented = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            rented.Add(await connections.RentAsync(_workspace.Address, CancellationToken.None));
        }

        rented.ForEach(socket => connections.Return(_workspace.Address, socket));
        Assert.Equal(2, connections.Open);

        // The sweep closes the two that waited, and the workspace sees them end.
        await RedisSentinelGroup.WaitUntilAsync(() => Task.FromResult(connections.Open == 0), "the idle connections closed", TimeSpan.FromSeconds(5));
        await RedisSentinelGroup.WaitUntilAsync(() => Task.FromResult(_workspace.Ended == 3), "the workspace saw all three end", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_workspace_on_a_Unix_socket_is_reached_and_an_unreachable_one_fails_at_once()
    {
        var folder = Directory.CreateTempSubdirectory("fastpath-unix");
        try
        {
            using var unix = Listener.Unix(Path.Combine(folder.FullName, "editor.sock"));
            using var connections = new WorkspaceConnections(TimeProvider.System, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), maxIdlePerAddress: 8, checkAfter: TimeSpan.Zero);

            var socket = await connections.RentAsync(unix.Address, CancellationToken.None);
            Assert.Equal(AddressFamily.Unix, socket.AddressFamily);
            await RedisSentinelGroup.WaitUntilAsync(() => Task.FromResult(unix.Accepted == 1), "connected over the Unix socket", TimeSpan.FromSeconds(5));

            var refused = await Assert.ThrowsAsync<SocketException>(async () => await connections.RentAsync($"127.0.0.1:{FreePort.Next()}", CancellationToken.None));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            Assert.Equal(1, connections.Open);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>A workspace that accepts connections, keeps them, and counts those that ended.</summary>
    private sealed class Listener : IDisposable
    {
        private readonly Socket _socket;
        private readonly List<TcpClient> _servers = [];
        private int _ended;

        private Listener(Socket socket, string address)
        {
            _socket = socket;
            Address = address;
            _ = AcceptAsync();
        }

        public string Address { get; }

        public int Accepted
        {
            get
            {
                lock (_servers)
                {
                    return _servers.Count;
                }
            }
        }

        public int Ended => Volatile.Read(ref _ended);

        public static Listener Tcp()
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen();
            return new Listener(socket, $"127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}");
        }

        public static Listener Unix(string path)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen();
            return new Listener(socket, "unix:" + path);
        }

        public TcpClient Server(int index)
        {
            lock (_servers)
            {
                return _servers[index];
            }
        }

        public void Dispose()
        {
            _socket.Dispose();
            lock (_servers)
            {
                _servers.ForEach(server => server.Dispose());
            }
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var server = new TcpClient { Client = await _socket.AcceptAsync() };
                    lock (_servers)
                    {
                        _servers.Add(server);
                    }

                    _ = WatchAsync(server);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task WatchAsync(TcpClient server)
        {
            try
            {
                var buffer = new byte[1024];
                while (await server.Client.ReceiveAsync(buffer) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            Interlocked.Increment(ref _ended);
        }
    }
}
