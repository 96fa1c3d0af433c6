using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Forwarding;

/// <summary>
/// The tunnel is byte-transparent over raw sockets: every WebSocket frame shape (RFC 6455 §5) arrives as
/// it was sent, in both directions, however the bytes are split into writes, and either side may close.
/// </summary>
public sealed class TunnelFramingTests(GatewayWithBackends env) : TunnelFramingTests<GatewayWithBackends>(env);

/// <summary>The same, every tunnel through Kestrel, YARP and the gateway's relay.</summary>
public sealed class TunnelFramingTestsThroughYarp(YarpGatewayWithBackends env) : TunnelFramingTests<YarpGatewayWithBackends>(env);

public abstract class TunnelFramingTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : GatewayWithBackends
{
    private const string UpgradeHeaders =
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(int.MaxValue)]
    public async Task Every_frame_shape_goes_to_the_workspace_and_back_byte_for_byte(int writeSize)
    {
        await using var workspace = RawWorkspace.Start(echo: true);
        using var client = await UpgradeAsync(workspace);
        byte[] frames =
        [
            .. Frame(0x81, 0),                    // empty text
            .. Frame(0x82, 125),                  // largest 7-bit length
            .. Frame(0x82, 126),                  // smallest 16-bit length
            .. Frame(0x82, 65_535),               // largest 16-bit length
            .. Frame(0x82, 65_536),               // smallest 64-bit length
            .. Frame(0x01, 5),                    // a text message in two fragments...
            .. Frame(0x89, 4),                    // ...with a ping between them (§5.4)
            .. Frame(0x80, 5),
            .. Frame(0x8A, 0),                    // empty pong
            .. Frame(0x88, 2, [0x03, 0xE8]),      // close 1000
        ];

        var stream = client.GetStream();
        for (var sent = 0; sent < frames.Length; sent += writeSize)
        {
            await stream.WriteAsync(frames.AsMemory(sent, Math.Min(writeSize, frames.Length - sent)));
        }

        var echoed = new byte[frames.Length];
        await stream.ReadExactlyAsync(echoed).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(frames, echoed);

        // The workspace answered the close by closing: the browser's side ends too.
        workspace.CloseClients();
        Assert.Equal(0, await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_close_from_the_workspace_reaches_the_browser_and_ends_the_connection()
    {
        await using var workspace = RawWorkspace.Start(echo: false, firstWords: [0x88, 0x02, 0x03, 0xE8]);
        using var client = await UpgradeAsync(workspace);

        var stream = client.GetStream();
        var close = new byte[4];
        await stream.ReadExactlyAsync(close).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([0x88, 0x02, 0x03, 0xE8], close);
        Assert.Equal(0, await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private async Task<TcpClient> UpgradeAsync(RawWorkspace workspace)
    {
        var sid = await env.RouteResolvedAsync(workspace.Address);
        using var counted = new Gateway.Tests.FastPath.FastPathRequests(env.Gateway.Services);
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, env.Gateway.Address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /ws/{sid}/raw" + UpgradeHeaders));
        var head = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        Assert.Contains("Upgrade: websocket", head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(env.FastPath ? 1 : 0, counted.Count);
        return client;
    }

    /// <summary>A client frame: FIN and opcode in <paramref name="first"/>, masked as browsers must (§5.3).</summary>
    private static byte[] Frame(byte first, int length, byte[]? payload = null)
    {
        payload ??= [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31))];
        var header = new List<byte> { first };
        if (length < 126)
        {
            header.Add((byte)(0x80 | length));
        }
        else if (length <= ushort.MaxValue)
        {
            header.AddRange([0x80 | 126, (byte)(length >> 8), (byte)length]);
        }
        else
        {
            header.Add(0x80 | 127);
            header.AddRange(Enumerable.Range(0, 8).Select(i => (byte)((long)length >> (56 - (8 * i)))));
        }

        byte[] mask = [0x37, 0xFA, 0x21, 0x3D];
        return [.. header, .. mask, .. payload.Select((b, i) => (byte)(b ^ mask[i % 4]))];
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            if (await stream.ReadAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(10)) == 0)
            {
                break;
            }

            head.Add(one[0]);
        }

        return Encoding.ASCII.GetString([.. head]);
    }

    /// <summary>A workspace speaking just enough HTTP to switch protocols, then echoing or talking raw bytes.</summary>
    private sealed class RawWorkspace : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<TcpClient> _clients = [];
        private Task _accepting = Task.CompletedTask;

        public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public static RawWorkspace Start(bool echo, byte[]? firstWords = null)
        {
            var workspace = new RawWorkspace();
            workspace._listener.Start();
            workspace._accepting = workspace.ServeAsync(echo, firstWords);
            return workspace;
        }

        public void CloseClients()
        {
            lock (_clients)
            {
                _clients.ForEach(client => client.Close());
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            CloseClients();
            await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        private async Task ServeAsync(bool echo, byte[]? firstWords)
        {
            var client = await _listener.AcceptTcpClientAsync();
            lock (_clients)
            {
                _clients.Add(client);
            }

            var stream = client.GetStream();
            await ReadHeadAsync(stream);
            await stream.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"u8.ToArray());
            if (firstWords is not null)
            {
                await stream.WriteAsync(firstWords);
                client.Client.Shutdown(SocketShutdown.Send);
            }

            var buffer = new byte[8192];
            int read;
            while (echo && (read = await stream.ReadAsync(buffer)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read));
            }
        }
    }
}
