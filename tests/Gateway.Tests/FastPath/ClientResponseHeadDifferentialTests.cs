using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.FastPath;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.FastPath;

/// <summary>
/// What the client gets for a workspace's answer the fast path relays, against what it gets today through YARP,
/// the gateway's transformer and Kestrel: the same status and the same fields with the same values (the time in
/// Date aside), for answers a workspace sends and the fields a gateway must not pass on.
/// </summary>
public sealed class ClientResponseHeadDifferentialTests(YarpTicketGatewayWithBackends env) : IClassFixture<YarpTicketGatewayWithBackends>
{
    private static readonly string[] Answers =
    [
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip\r\nETag: W/\"1\"\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nSet-Cookie: theme=dark; Path=/\r\nSet-Cookie: gw_session=forged; Path=/\r\nSet-Cookie: __Host-gw_session=forged; Path=/; Secure\r\nSet-Cookie:  gw_session=x\r\nSet-Cookie: gw_sessionx=kept\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=0\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nAlt-Svc: h3=\":443\"\r\nUpgrade-Insecure-Requests: 1\r\nProxy-Connection: keep-alive\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 404 Nope\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        "HTTP/1.1 204 No Content\r\nX-Request-Id: 42\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\nCache-Control: max-age=60\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nx-lower: v\r\nX-Empty:\r\nX-Spaces:   a  b   \r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 302 Found\r\nLocation: /ws/elsewhere/\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 403 \r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 599 Custom Thing\r\nContent-Length: 0\r\n\r\n",
    ];

    [Fact]
    public async Task The_client_gets_the_same_status_and_fields_from_the_fast_path_as_through_YARP()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = ServeAsync(listener);
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await env.Writer.SetRouteAsync(sid, $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        await env.Writer.PublishAsync(sid);

        var failures = new List<string>();
        for (var i = 0; i < Answers.Length; i++)
        {
            var request = $"GET /ws/{sid}/{i} HTTP/1.1\r\nHost: gw.example.com\r\nCookie: gw_session={TestTickets.Session(sid)}\r\nConnection: close\r\n\r\n";
            var exchange = await RawHttpExchange.SendAsync(env.Gateway.Address.Port, Encoding.ASCII.GetBytes(request), TimeSpan.FromSeconds(5));
            var throughYarp = exchange.Text[..(exchange.Text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)];

            var answer = Encoding.Latin1.GetBytes(Answers[i]);
            Assert.Equal(HeadParse.Taken, Http1ResponseHead.TryParse(answer, toHead: false, out var head));
            var buffer = new byte[16 * 1024];
            var written = ClientResponseHead.Write(answer, head, new RelayedAnswer("gw_session", default, "Sat, 05 Dec 2026 05:00:00 GMT"u8), buffer);
            var fastPath = Encoding.Latin1.GetString(buffer, 0, written);
            if (Normalized(throughYarp) != Normalized(fastPath))
            {
                failures.Add($"{HeadText.Show(Answers[i])}\n  YARP:      {HeadText.Show(Normalized(throughYarp))}\n  fast path: {HeadText.Show(Normalized(fastPath))}");
            }
        }

        listener.Stop();
        await serving.ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.True(failures.Count == 0, $"{failures.Count} of {Answers.Length} differ:\n" + string.Join("\n", failures));
    }

    // A workspace's 101 to a WebSocket handshake, its fields as code-server and other servers send them.
    [Theory]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\nSet-Cookie: gw_session=forged\r\nX-Extra: 1\r\n\r\n")]
    [InlineData("HTTP/1.1 101 \r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")]
    public async Task The_client_gets_the_same_101_from_the_fast_path_as_through_YARP(string switched)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            await ReadHeadAsync(stream);
            await stream.WriteAsync(Encoding.Latin1.GetBytes(switched));
            await Task.Delay(500);
        });
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await env.Writer.SetRouteAsync(sid, $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        await env.Writer.PublishAsync(sid);

        var request = $"GET /ws/{sid}/ HTTP/1.1\r\nHost: gw.example.com\r\nCookie: gw_session={TestTickets.Session(sid)}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        var exchange = await RawHttpExchange.SendAsync(env.Gateway.Address.Port, Encoding.ASCII.GetBytes(request), TimeSpan.FromSeconds(5));
        await serving;
        var end = exchange.Text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, exchange.Text);
        var throughYarp = exchange.Text[..(end + 4)];

        var answer = Encoding.Latin1.GetBytes(switched);
        Assert.Equal(HeadParse.Taken, Http1ResponseHead.TryParse(answer, toHead: false, out var head, toWebSocket: true));
        var buffer = new byte[16 * 1024];
        var written = ClientResponseHead.Write(answer, head, new RelayedAnswer("gw_session", default, "Sat, 05 Dec 2026 05:00:00 GMT"u8), buffer);
        Assert.Equal(Normalized(throughYarp, keepConnection: true), Normalized(Encoding.Latin1.GetString(buffer, 0, written), keepConnection: true));
    }

    // Status line, then each field (name case folded) with its values in order, joined as one line would carry
    // them (Set-Cookie never joins: each its own). The Date's time is the moment's; the test sent its own. The
    // Connection field answers this test's "close" and is no part of the relayed answer.
    private static string Normalized(string head, bool keepConnection = false)
    {
        var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var fields = lines.Skip(1)
            .Select(line => (Name: line[..line.IndexOf(':', StringComparison.Ordinal)].ToLowerInvariant(), Value: line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
            .Where(f => keepConnection || f.Name != "connection")
            .Select(f => f.Name == "date" && f.Value != "Tue, 01 Dec 2026 10:00:00 GMT" ? (f.Name, Value: "(now)") : f)
            .GroupBy(f => f.Name)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key == "set-cookie" ? string.Join("\n", g.Select(f => $"{g.Key}: {f.Value}")) : $"{g.Key}: {string.Join(", ", g.Select(f => f.Value))}");
        return lines[0] + "\n" + string.Join("\n", fields);
    }


    // Answers GET /<i> with Answers[i], one request per connection.
    private static async Task ServeAsync(TcpListener listener)
    {
        while (true)
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var text = await ReadHeadAsync(stream);

            var index = int.Parse(text.Split(' ')[1].TrimStart('/'), System.Globalization.CultureInfo.InvariantCulture);
            await stream.WriteAsync(Encoding.Latin1.GetBytes(Answers[index]));
        }
    }

    // What the gateway sent, up to the end of its head (or of the connection).
    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new byte[16 * 1024];
        var text = "";
        while (!text.Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                break;
            }

            text += Encoding.Latin1.GetString(buffer, 0, read);
        }

        return text;
    }
}
