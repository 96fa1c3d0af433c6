using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Tests.Common;

/// <summary>
/// One plain RESP2 connection to a Redis server, as a workspace's shell with redis-cli would open it: any
/// command, its reply as text (<c>+OK</c>, <c>-NOPERM ...</c>, <c>:1</c>, a bulk string's value, an array's
/// items joined). No client library in between to refuse or rewrite a command.
/// </summary>
public sealed class RespConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly StreamReader _reader;

    private RespConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
    }

    public static async Task<RespConnection> OpenAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
        return new RespConnection(client);
    }

    /// <summary>Sends one command and reads its reply.</summary>
    public async Task<string> SendAsync(params string[] command)
    {
        var request = new StringBuilder();
        request.Append(CultureInfo.InvariantCulture, $"*{command.Length}\r\n");
        foreach (var part in command)
        {
            request.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }

        await _stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return await ReadReplyAsync(timeout.Token);
    }

    private async Task<string> ReadReplyAsync(CancellationToken cancellationToken)
    {
        var line = await _reader.ReadLineAsync(cancellationToken) ?? throw new IOException("Redis closed the connection");
        switch (line[0])
        {
            case '$':
                var length = int.Parse(line.AsSpan(1), CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return "(nil)";
                }

                var buffer = new char[length + 2];
                await _reader.ReadBlockAsync(buffer, cancellationToken);
                return new string(buffer, 0, length);
            case '*':
                var count = int.Parse(line.AsSpan(1), CultureInfo.InvariantCulture);
                var items = new List<string>();
                for (var i = 0; i < count; i++)
                {
                    items.Add(await ReadReplyAsync(cancellationToken));
                }

                return "[" + string.Join(", ", items) + "]";
            default:
                return line;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}
