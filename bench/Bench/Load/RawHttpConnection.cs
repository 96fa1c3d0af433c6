using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bench.Load;

/// <summary>
/// A keep-alive HTTP/1.1 connection that sends one fixed request and parses just enough of the answer
/// (status, Content-Length or chunked, Connection: close) to stay in sync. HttpClient would spend more of
/// the generator's core than nginx spends answering.
/// </summary>
internal sealed class RawHttpConnection : IDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private readonly IPEndPoint _endpoint;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private byte[] _request;
    private Socket? _socket;
    private int _start;
    private int _end;

    public RawHttpConnection(int port, string path)
    {
        _endpoint = new IPEndPoint(IPAddress.Loopback, port);
        _request = BuildRequest(port, path);
    }

    /// <summary>The first byte of the last body: tells the churn scenario which backend answered.</summary>
    public byte FirstBodyByte { get; private set; }

    public void Retarget(string path) => _request = BuildRequest(_endpoint.Port, path);

    public async ValueTask<int> SendAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_socket is null)
            {
                _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await _socket.ConnectAsync(_endpoint, cancellationToken);
                _start = _end = 0;
            }

            await _socket.SendAsync(_request, SocketFlags.None, cancellationToken);
            return await ReadResponseAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            Close();
            return 0;
        }
    }

    public void Dispose() => Close();

    private static byte[] BuildRequest(int port, string path) =>
        Encoding.ASCII.GetBytes(BenchCredentials.CookieFor(path) is { } cookie
            ? $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nCookie: {cookie}\r\n\r\n"
            : $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n");

    private void Close()
    {
        _socket?.Dispose();
        _socket = null;
    }

    private async ValueTask<int> ReadResponseAsync(CancellationToken cancellationToken)
    {
        int headerLength;
        while ((headerLength = _buffer.AsSpan(_start, _end - _start).IndexOf(HeaderEnd)) < 0)
        {
            await FillAsync(cancellationToken);
        }

        var head = _buffer.AsSpan(_start, headerLength);
        var status = ((head[9] - '0') * 100) + ((head[10] - '0') * 10) + (head[11] - '0');
        long contentLength = -1;
        bool chunked = false, close = false;
        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            if (line.StartsWith("Content-Length:"u8) || line.StartsWith("content-length:"u8))
            {
                contentLength = long.Parse(Encoding.ASCII.GetString(line["Content-Length:".Length..]).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("Transfer-Encoding: chunked"u8) || line.StartsWith("transfer-encoding: chunked"u8))
            {
                chunked = true;
            }
            else if (line.StartsWith("Connection: close"u8) || line.StartsWith("connection: close"u8))
            {
                close = true;
            }
        }

        _start += headerLength + HeaderEnd.Length;
        FirstBodyByte = 0;
        if (chunked)
        {
            await SkipChunkedAsync(cancellationToken);
        }
        else if (contentLength > 0)
        {
            await SkipAsync(contentLength, cancellationToken);
        }

        if (close)
        {
            Close();
        }

        return status;
    }

    private async ValueTask SkipAsync(long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            if (FirstBodyByte == 0)
            {
                FirstBodyByte = _buffer[_start];
            }

            var take = (int)Math.Min(count, _end - _start);
            _start += take;
            count -= take;
        }
    }

    private async ValueTask SkipChunkedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int lineLength;
            while ((lineLength = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
            {
                await FillAsync(cancellationToken);
            }

            var size = Convert.ToInt64(Encoding.ASCII.GetString(_buffer, _start, lineLength).Split(';')[0], 16);
            _start += lineLength + 2;
            await SkipAsync(size + 2, cancellationToken);
            if (size == 0)
            {
                return;
            }
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var read = await _socket!.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        if (read == 0)
        {
            throw new IOException("connection closed by server");
        }

        _end += read;
    }
}
