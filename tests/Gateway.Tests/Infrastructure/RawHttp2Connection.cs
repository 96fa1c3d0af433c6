using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Gateway.Tests.Infrastructure;

/// <summary>One HTTP/2 frame as it crossed the wire (RFC 9113 §4.1).</summary>
public sealed record Http2Frame(byte Type, byte Flags, int StreamId, byte[] Payload)
{
    public const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7;

    /// <summary>The error code of a RST_STREAM or GOAWAY frame.</summary>
    public uint ErrorCode => Type switch
    {
        RstStream => BinaryPrimitives.ReadUInt32BigEndian(Payload),
        GoAway => BinaryPrimitives.ReadUInt32BigEndian(Payload.AsSpan(4)),
        _ => throw new InvalidOperationException($"frame type {Type} carries no error code"),
    };

    /// <summary>
    /// The <c>:status</c> of a response HEADERS frame when the server sent it as an entry of HPACK's static table
    /// (200, 204, 206, 304, 400, 404, 500: what Kestrel does for those), otherwise null.
    /// </summary>
    public int? StaticStatus
    {
        get
        {
            var i = 0;
            while (i < Payload.Length && (Payload[i] & 0xE0) == 0x20)
            {
                i++; // a dynamic table size update (RFC 7541 §6.3), small enough for one byte here
            }

            return i < Payload.Length ? (Payload[i] & 0x7F) switch
            {
                8 => 200,
                9 => 204,
                10 => 206,
                11 => 304,
                12 => 400,
                13 => 404,
                14 => 500,
                _ => null,
            } : null;
        }
    }
}

/// <summary>
/// An HTTP/2 client that writes frames exactly as told, for the attacks and malformed input no real client
/// sends (RFC 9113): over TLS with ALPN h2, header blocks in HPACK literals (RFC 7541 §6.2.2, no Huffman), and
/// every frame the server sends kept in order.
/// </summary>
public sealed class RawHttp2Connection : IAsyncDisposable
{
    public const uint Cancel = 0x8, ProtocolError = 0x1, InternalError = 0x2, RefusedStream = 0x7, EnhanceYourCalm = 0xB, CompressionError = 0x9;

    private readonly TcpClient _tcp;
    private readonly SslStream _tls;
    private readonly Channel<Http2Frame> _received = Channel.CreateUnbounded<Http2Frame>();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly Task _reader;

    private RawHttp2Connection(TcpClient tcp, SslStream tls)
    {
        _tcp = tcp;
        _tls = tls;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Completes when the server closed the connection (or it broke).</summary>
    public Task Closed => _reader;

    public static async Task<RawHttp2Connection> OpenAsync(IPEndPoint endpoint, TestCertificates trust, string serverName)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(endpoint);
        var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => trust.Trusts(certificate, errors),
        });
        if (tls.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
        {
            throw new InvalidOperationException("the server did not agree to h2");
        }

        await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        var connection = new RawHttp2Connection(tcp, tls);
        await connection.SendFrameAsync(Http2Frame.Settings, 0, 0, []);
        return connection;
    }

    /// <summary>
    /// A request's header block: one HEADERS frame (END_STREAM when <paramref name="endStream"/>), followed by
    /// CONTINUATION frames when it is larger than the smallest frame size every server accepts (16 KiB).
    /// </summary>
    public Task SendHeadersAsync(int streamId, IEnumerable<(string Name, string Value)> headers, bool endStream = true)
    {
        const int MaxFrame = 16 * 1024;
        const byte Continuation = 0x9, EndHeaders = 0x4;
        var block = Encode(headers);
        var frames = new List<(byte, byte, int, byte[])>();
        for (var offset = 0; offset < block.Length || offset == 0; offset += MaxFrame)
        {
            var last = offset + MaxFrame >= block.Length;
            var flags = (byte)((last ? EndHeaders : 0) | (offset == 0 && endStream ? 0x1 : 0));
            frames.Add((offset == 0 ? Http2Frame.Headers : Continuation, flags, streamId, block[offset..Math.Min(block.Length, offset + MaxFrame)]));
            if (block.Length == 0)
            {
                break;
            }
        }

        return SendBurstAsync(frames);
    }

    public Task SendRstStreamAsync(int streamId, uint errorCode = Cancel)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, errorCode);
        return SendFrameAsync(Http2Frame.RstStream, 0, streamId, payload);
    }

    /// <summary>A GET for <paramref name="path"/> with the usual pseudo-headers.</summary>
    public static (string, string)[] Get(string path, string authority = "gateway.test") =>
        [(":method", "GET"), (":scheme", "https"), (":authority", authority), (":path", path)];

    /// <summary>Many frames in one write, as an attacker sends them: no wait for the server between them.</summary>
    public async Task SendBurstAsync(IEnumerable<(byte Type, byte Flags, int StreamId, byte[] Payload)> frames)
    {
        using var buffer = new MemoryStream();
        foreach (var (type, flags, streamId, payload) in frames)
        {
            WriteFrame(buffer, type, flags, streamId, payload);
        }

        await _writing.WaitAsync();
        try
        {
            await _tls.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
            await _tls.FlushAsync();
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>The next frame that <paramref name="match"/>es, or null when the connection ends first or <paramref name="within"/> passes.</summary>
    public async Task<Http2Frame?> NextAsync(Func<Http2Frame, bool> match, TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        try
        {
            await foreach (var frame in _received.Reader.ReadAllAsync(deadline.Token))
            {
                if (match(frame))
                {
                    return frame;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
        }

        return null;
    }

    public static byte[] Encode(IEnumerable<(string Name, string Value)> headers)
    {
        using var block = new MemoryStream();
        foreach (var (name, value) in headers)
        {
            block.WriteByte(0x00); // literal without indexing, new name
            WriteString(block, name);
            WriteString(block, value);
        }

        return block.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        await _tls.DisposeAsync();
        try
        {
            await _reader;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }

        _writing.Dispose();
    }

    public Task SendFrameAsync(byte type, byte flags, int streamId, byte[] payload) => SendBurstAsync([(type, flags, streamId, payload)]);

    private static void WriteFrame(Stream target, byte type, byte flags, int streamId, byte[] payload)
    {
        Span<byte> header = stackalloc byte[9];
        header[0] = (byte)(payload.Length >> 16);
        header[1] = (byte)(payload.Length >> 8);
        header[2] = (byte)payload.Length;
        header[3] = type;
        header[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(header[5..], streamId);
        target.Write(header);
        target.Write(payload);
    }

    private static void WriteString(Stream target, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        WriteInteger(target, bytes.Length, 7, 0x00);
        target.Write(bytes);
    }

    // RFC 7541 §5.1.
    private static void WriteInteger(Stream target, int value, int prefixBits, byte flags)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            target.WriteByte((byte)(flags | value));
            return;
        }

        target.WriteByte((byte)(flags | max));
        value -= max;
        while (value >= 128)
        {
            target.WriteByte((byte)((value % 128) + 128));
            value /= 128;
        }

        target.WriteByte((byte)value);
    }

    private async Task ReadAsync()
    {
        var header = new byte[9];
        try
        {
            while (true)
            {
                await _tls.ReadExactlyAsync(header);
                var length = (header[0] << 16) | (header[1] << 8) | header[2];
                var payload = new byte[length];
                await _tls.ReadExactlyAsync(payload);
                var frame = new Http2Frame(header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7FFFFFFF, payload);
                if (frame.Type == Http2Frame.Settings && (frame.Flags & 0x1) == 0)
                {
                    await SendFrameAsync(Http2Frame.Settings, 0x1, 0, []);
                }

                _received.Writer.TryWrite(frame);
            }
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or ObjectDisposedException)
        {
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }
}
