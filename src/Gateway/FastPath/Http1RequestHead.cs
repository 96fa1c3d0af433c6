using System.Buffers;
using System.Text;

namespace Gateway.FastPath;

/// <summary>What <see cref="Http1RequestHead.TryParse"/> made of the bytes at the start of a connection's buffer.</summary>
internal enum HeadParse
{
    /// <summary>A whole head the fast path may forward; <see cref="Http1RequestHead"/> describes it.</summary>
    Taken,

    /// <summary>Not a whole head yet: read more (a head that could only grow past the limits is declined instead).</summary>
    NeedMore,

    /// <summary>
    /// Not for the fast path: anything outside the strict subset it takes, valid or not. Kestrel's own parser
    /// then decides, so whatever is refused is refused by one parser, as RFC 9112 says, and nothing ambiguous
    /// is ever read two ways (the request-smuggling risk of two parsers in a row).
    /// </summary>
    Declined,
}

/// <summary>
/// The head of one HTTP/1.1 request in the strict subset the gateway's fast path forwards (RFC 9112): a
/// <c>GET</c> or <c>HEAD</c> in origin form, <c>HTTP/1.1</c>, CRLF line ends, header names that are tokens
/// followed at once by a colon, values of visible ASCII, spaces and tabs, exactly one <c>Host</c>, and no
/// body, <c>Expect</c> or connection option beyond <c>keep-alive</c>; or a WebSocket opening handshake (RFC 6455
/// §4.1: a <c>GET</c> with one <c>Upgrade: websocket</c> and one <c>Connection</c> naming <c>Upgrade</c>, and
/// <c>keep-alive</c> at most besides). Everything else is
/// <see cref="HeadParse.Declined"/>: the subset is chosen so that any head it takes, Kestrel reads the same
/// way (the differential tests hold both to it). Offsets point into the parsed bytes; nothing is copied.
/// </summary>
internal readonly struct Http1RequestHead
{
    private Http1RequestHead(bool isHead, Range upgrade, Range target, Range host, int length, FieldRange[] fields, int fieldCount)
    {
        IsHead = isHead;
        Upgrade = upgrade;
        Target = target;
        Host = host;
        Length = length;
        Fields = fields;
        FieldCount = fieldCount;
    }

    /// <summary>HEAD rather than GET.</summary>
    public bool IsHead { get; }

    /// <summary>A WebSocket opening handshake: the connection becomes a tunnel if the workspace switches protocols.</summary>
    public bool IsWebSocket => !Upgrade.Equals(default(Range));

    /// <summary>The <c>Upgrade</c> field's value of a WebSocket handshake (<c>websocket</c> in any case), as sent.</summary>
    public Range Upgrade { get; }

    /// <summary>The request target, origin form (<c>/path?query</c>), as sent.</summary>
    public Range Target { get; }

    /// <summary>The <c>Host</c> field's value, without surrounding whitespace.</summary>
    public Range Host { get; }

    /// <summary>Bytes of the head, the blank line included: where the next request starts.</summary>
    public int Length { get; }

    /// <summary>Every field in order (rented: <see cref="Return"/> once done).</summary>
    public FieldRange[] Fields { get; }

    public int FieldCount { get; }

    /// <summary>Gives the field array back to the pool.</summary>
    public void Return() => ArrayPool<FieldRange>.Shared.Return(Fields);

    /// <summary>
    /// Reads the head at the start of <paramref name="bytes"/>. A head beyond <paramref name="limits"/> (Kestrel's,
    /// so that Kestrel answers it with its 414 or 431) is declined.
    /// </summary>
    public static HeadParse TryParse(ReadOnlySpan<byte> bytes, Http1HeadLimits limits, out Http1RequestHead head)
    {
        head = default;
        var window = bytes.Length > limits.MaxHeadBytes ? bytes[..limits.MaxHeadBytes] : bytes;
        var end = window.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            // A bare LF where a line ends is allowed by RFC 9112 §2.2 to some recipients, not by this subset.
            return window.Length == limits.MaxHeadBytes || window.IndexOf((byte)'\n') is var lf and >= 0 && (lf == 0 || window[lf - 1] != '\r')
                ? HeadParse.Declined
                : HeadParse.NeedMore;
        }

        var length = end + 4;
        var text = bytes[..length];
        var lineEnd = text.IndexOf("\r\n"u8);
        if (lineEnd + 2 > limits.MaxRequestLineBytes || !TryParseRequestLine(text[..lineEnd], out var isHead, out var target))
        {
            return HeadParse.Declined;
        }

        var fields = ArrayPool<FieldRange>.Shared.Rent(limits.MaxFields);
        var count = 0;
        var host = default(Range);
        var hosts = 0;
        var upgrades = 0;
        var upgrade = default(Range);
        var connections = 0;
        var connectionUpgrade = false;
        var position = lineEnd + 2;
        while (position < end + 2)
        {
            var line = text[position..];
            var fieldEnd = line.IndexOf("\r\n"u8);
            if (count == limits.MaxFields || !TryParseField(line[..fieldEnd], position, out var field))
            {
                ArrayPool<FieldRange>.Shared.Return(fields);
                return HeadParse.Declined;
            }

            var name = text[field.Name];
            var value = text[field.Value];
            if (Ascii.EqualsIgnoreCase(name, "host"u8))
            {
                host = field.Value;
                hosts++;
            }
            else if (Ascii.EqualsIgnoreCase(name, "upgrade"u8))
            {
                upgrades += Ascii.EqualsIgnoreCase(value, "websocket"u8) ? 1 : 2;
                upgrade = field.Value;
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                connections++;
                if (!TryReadConnection(value, out var upgradeOption))
                {
                    ArrayPool<FieldRange>.Shared.Return(fields);
                    return HeadParse.Declined;
                }

                connectionUpgrade |= upgradeOption;
            }
            else if (!MayForward(name))
            {
                ArrayPool<FieldRange>.Shared.Return(fields);
                return HeadParse.Declined;
            }

            fields[count++] = field;
            position += fieldEnd + 2;
        }

        // RFC 9112 §3.2: exactly one Host, a name or IPv4 address with an optional port (Kestrel refuses some
        // others; IP literals go to it whole).
        if (hosts != 1 || !IsPlainHost(text[host]))
        {
            ArrayPool<FieldRange>.Shared.Return(fields);
            return HeadParse.Declined;
        }

        // An upgrade is one WebSocket handshake by GET, both fields once, or none of it (RFC 9110 §7.8: Upgrade
        // means nothing unless Connection names it; a half of it is read differently by different servers).
        var isWebSocket = upgrades == 1 && connections == 1 && connectionUpgrade && !isHead;
        if (!isWebSocket && (upgrades > 0 || connectionUpgrade))
        {
            ArrayPool<FieldRange>.Shared.Return(fields);
            return HeadParse.Declined;
        }

        head = new Http1RequestHead(isHead, isWebSocket ? upgrade : default, target, host, length, fields, count);
        return HeadParse.Taken;
    }

    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out bool isHead, out Range target)
    {
        target = default;
        isHead = line.StartsWith("HEAD /"u8);
        var methodLength = isHead ? 4 : line.StartsWith("GET /"u8) ? 3 : -1;
        if (methodLength < 0 || !line.EndsWith(" HTTP/1.1"u8))
        {
            return false;
        }

        // Origin form of visible ASCII only: no second space, no control, no fragment (RFC 9112 §3.2, RFC 3986).
        var start = methodLength + 1;
        var span = line[start..^9];
        if (span.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0 || span.Contains((byte)'#'))
        {
            return false;
        }

        // Routing reads the path as Kestrel hands it on: percent-decoded, dot segments removed (RFC 3986 §5.2.4).
        // Only a path those change nothing in is taken, so both paths route a request to the same workspace.
        var query = span.IndexOf((byte)'?');
        if (!IsPlainPath(query < 0 ? span : span[..query]))
        {
            return false;
        }

        target = start..(line.Length - 9);
        return true;
    }

    private static bool IsPlainPath(ReadOnlySpan<byte> path)
    {
        if (path.IndexOfAny((byte)'%', (byte)'\\') >= 0 || path.IndexOf("//"u8) >= 0)
        {
            return false;
        }

        foreach (var segment in path[1..].Split((byte)'/'))
        {
            var text = path[1..][segment];
            if (text.SequenceEqual("."u8) || text.SequenceEqual(".."u8))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseField(ReadOnlySpan<byte> line, int offset, out FieldRange field)
    {
        field = default;
        var colon = line.IndexOf((byte)':');

        // A token right before the colon: no whitespace between them (RFC 9112 §5.1), no obs-fold (a line that
        // starts with whitespace continues the previous one, §5.2).
        if (colon < 0 || !Http1Syntax.IsToken(line[..colon]))
        {
            return false;
        }

        var value = line[(colon + 1)..];
        var leading = value.Length - value.TrimStart(" \t"u8).Length;
        var trimmed = value.Trim(" \t"u8);

        // No obs-text from a client: how Kestrel reads it depends on its header encoding; the subset takes none (§5.5).
        if (!Http1Syntax.IsFieldValue(trimmed, obsText: false))
        {
            return false;
        }

        var valueStart = offset + colon + 1 + leading;
        field = new FieldRange(offset..(offset + colon), valueStart..(valueStart + trimmed.Length));
        return true;
    }

    // Fields that would make this more than a bodiless request-response exchange on a kept connection.
    private static bool MayForward(ReadOnlySpan<byte> name) =>
        !(Ascii.EqualsIgnoreCase(name, "content-length"u8)
          || Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8)
          || Ascii.EqualsIgnoreCase(name, "expect"u8)
          || Ascii.EqualsIgnoreCase(name, "te"u8));

    // Connection options the subset takes: keep-alive and upgrade (as browsers send them: "Upgrade",
    // "keep-alive, Upgrade"), each at most once; any other option names a field to drop, or closes.
    private static bool TryReadConnection(ReadOnlySpan<byte> value, out bool upgrade)
    {
        upgrade = false;
        var keepAlive = false;
        foreach (var range in value.Split((byte)','))
        {
            var option = value[range].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(option, "upgrade"u8) && !upgrade)
            {
                upgrade = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8) && !keepAlive)
            {
                keepAlive = true;
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPlainHost(ReadOnlySpan<byte> host)
    {
        var colon = host.IndexOf((byte)':');
        var name = colon < 0 ? host : host[..colon];
        if (name.IsEmpty || name.IndexOfAnyExcept(HostCharacters) >= 0)
        {
            return false;
        }

        var port = colon < 0 ? default : host[(colon + 1)..];
        return colon < 0 || (port.Length is >= 1 and <= 5 && port.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0);
    }

    private static readonly SearchValues<byte> HostCharacters =
        SearchValues.Create("-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

}

/// <summary>
/// How large a head the fast path takes: within the gateway's Kestrel limits (<c>Gateway:Limits</c>), so any head
/// Kestrel would refuse for its size is left to Kestrel, and at most 32 KiB, which the fast path holds at once.
/// </summary>
internal readonly record struct Http1HeadLimits(int MaxHeadBytes, int MaxRequestLineBytes, int MaxFields)
{
    public const int Largest = 32 * 1024;

    public static Http1HeadLimits From(Configuration.LimitsOptions limits) => new(
        Math.Min(Largest, limits.MaxRequestHeadersTotalSize),
        Math.Min(Largest, limits.MaxRequestLineSize),
        limits.MaxRequestHeaderCount);
}

/// <summary>Where one field's name and value are in the head's bytes.</summary>
internal readonly record struct FieldRange(Range Name, Range Value);
