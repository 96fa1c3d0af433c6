using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Gateway.FastPath;

/// <summary>How the body after a response head ends (RFC 9112 §6.3).</summary>
internal enum BodyFraming
{
    /// <summary>No body: the answer to a HEAD, a 204 or a 304, whatever its fields say.</summary>
    None,

    /// <summary>Exactly <see cref="Http1ResponseHead.ContentLength"/> bytes.</summary>
    ContentLength,

    /// <summary>Chunks up to the last one and its trailer section.</summary>
    Chunked,
}

/// <summary>
/// The head of a workspace's answer to a request the fast path forwarded, when it is one the fast path can relay
/// as it came: <c>HTTP/1.1</c>, a final status, token names, values without controls, and a body framed by one
/// valid <c>Content-Length</c> or by <c>chunked</c> alone, or no body. Anything else (an interim 1xx, HTTP/1.0, a
/// body that ends with the connection, conflicting or malformed framing) is declined before a byte reaches the
/// client, and the request goes the Kestrel and YARP way instead, which answers as the gateway always has
/// (502 for a malformed answer). Offsets point into the parsed bytes.
/// </summary>
internal readonly struct Http1ResponseHead
{
    /// <summary>A workspace's head larger than this goes the YARP way (SocketsHttpHandler's default limit is 64 KiB).</summary>
    public const int MaxLength = 32 * 1024;

    private Http1ResponseHead(int status, int length, BodyFraming framing, long contentLength, bool keepAlive, Range upgrade)
    {
        Status = status;
        Upgrade = upgrade;
        Length = length;
        Framing = framing;
        ContentLength = contentLength;
        KeepAlive = keepAlive;
    }

    public int Status { get; }

    /// <summary>Bytes of the head, the blank line included.</summary>
    public int Length { get; }

    public BodyFraming Framing { get; }

    public long ContentLength { get; }

    /// <summary>Whether the workspace keeps the connection for another request (no <c>Connection: close</c>).</summary>
    public bool KeepAlive { get; }

    /// <summary>A 101 to a WebSocket handshake: the connection is a tunnel from the end of this head on.</summary>
    public bool IsSwitching => Status == 101;

    /// <summary>The <c>Upgrade</c> field's value of a 101, as the workspace sent it.</summary>
    public Range Upgrade { get; }

    /// <summary>
    /// Reads the head at the start of <paramref name="bytes"/>, the answer to a HEAD request when <paramref name="toHead"/>,
    /// to a WebSocket handshake when <paramref name="toWebSocket"/> (then a 101 is its final answer, RFC 6455 §4.2.2).
    /// </summary>
    public static HeadParse TryParse(ReadOnlySpan<byte> bytes, bool toHead, out Http1ResponseHead head, bool toWebSocket = false)
    {
        head = default;
        var window = bytes.Length > MaxLength ? bytes[..MaxLength] : bytes;
        var end = window.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return window.Length == MaxLength ? HeadParse.Declined : HeadParse.NeedMore;
        }

        var text = bytes[..(end + 4)];
        var lineEnd = text.IndexOf("\r\n"u8);
        var line = text[..lineEnd];

        // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ] (RFC 9112 §4); a final status only.
        if (line.Length < 13 || !line.StartsWith("HTTP/1.1 "u8) || line[12] != (byte)' '
            || line[9..12].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0 || line[9] is < (byte)'1' or > (byte)'5'
            || !Http1Syntax.IsFieldValue(line[13..], obsText: true))
        {
            return HeadParse.Declined;
        }

        var status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
        if (status < 200 && !(status == 101 && toWebSocket))
        {
            return HeadParse.Declined;
        }

        long contentLength = -1;
        var chunked = false;
        var keepAlive = true;
        var upgrade = default(Range);
        var upgrades = 0;
        var position = lineEnd + 2;
        while (position < end + 2)
        {
            var fieldStart = position;
            var field = text[position..];
            field = field[..field.IndexOf("\r\n"u8)];
            position += field.Length + 2;
            var colon = field.IndexOf((byte)':');
            if (colon < 0 || !Http1Syntax.IsToken(field[..colon]))
            {
                return HeadParse.Declined;
            }

            var name = field[..colon];
            var untrimmed = field[(colon + 1)..];
            var value = untrimmed.Trim(" \t"u8);
            if (!Http1Syntax.IsFieldValue(value, obsText: true))
            {
                return HeadParse.Declined;
            }

            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                // One length, digits only; a second one (even equal) is left to the YARP way (RFC 9112 §6.3 item 5).
                if (contentLength >= 0 || value.IsEmpty || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0
                    || !Utf8Parser.TryParse(value, out contentLength, out var used) || used != value.Length)
                {
                    return HeadParse.Declined;
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                // Only "chunked" alone: any other coding list, or a second field, goes the YARP way.
                if (chunked || !Ascii.EqualsIgnoreCase(value, "chunked"u8))
                {
                    return HeadParse.Declined;
                }

                chunked = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                keepAlive &= !HasToken(value, "close"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "upgrade"u8))
            {
                var valueStart = fieldStart + colon + 1 + (untrimmed.Length - untrimmed.TrimStart(" \t"u8).Length);
                upgrade = valueStart..(valueStart + value.Length);
                upgrades++;
            }
        }

        if (status == 101)
        {
            // The workspace switched to a WebSocket, nothing else and once (what the client asked for).
            if (upgrades != 1 || !Ascii.EqualsIgnoreCase(bytes[upgrade], "websocket"u8))
            {
                return HeadParse.Declined;
            }

            head = new Http1ResponseHead(status, end + 4, BodyFraming.None, 0, keepAlive: false, upgrade);
            return HeadParse.Taken;
        }

        BodyFraming framing;
        if (toHead || status is 204 or 304)
        {
            framing = BodyFraming.None;
        }
        else if (chunked && contentLength < 0)
        {
            framing = BodyFraming.Chunked;
        }
        else if (contentLength >= 0 && !chunked)
        {
            framing = BodyFraming.ContentLength;
        }
        else
        {
            // Both (a smuggling shape), or neither: a body that ends with the connection.
            return HeadParse.Declined;
        }

        head = new Http1ResponseHead(status, end + 4, framing, framing == BodyFraming.ContentLength ? contentLength : 0, keepAlive, default);
        return HeadParse.Taken;
    }

    private static bool HasToken(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        foreach (var range in list.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(list[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }

}
