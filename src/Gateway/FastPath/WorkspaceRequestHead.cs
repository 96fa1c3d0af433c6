using System.Buffers;
using System.Text;

namespace Gateway.FastPath;

/// <summary>
/// Where a request the fast path forwards came from, as the workspace is told it (the X-Forwarded-* fields):
/// the peer's address, whether it used TLS, whether it is a trusted load balancer (whose forwarding fields are
/// extended rather than replaced), and how much of the path is the gateway's (<c>/ws/&lt;sid&gt;</c>; 0 on a
/// workspace's own origin).
/// </summary>
internal readonly ref struct ForwardedFrom(ReadOnlySpan<byte> clientAddress, bool https, int prefixLength, string cookieName, bool trustedProxy = false)
{
    public ReadOnlySpan<byte> ClientAddress { get; } = clientAddress;

    /// <summary>The peer is a trusted load balancer: what it says about the client is kept.</summary>
    public bool TrustedProxy { get; } = trustedProxy;

    public bool Https { get; } = https;

    public int PrefixLength { get; } = prefixLength;

    /// <summary>The gateway's session cookie, which the workspace never sees.</summary>
    public string CookieName { get; } = cookieName;
}

/// <summary>
/// The head the workspace gets for a request the fast path took: what Kestrel and YARP with the gateway's
/// transformer send for it, field for field. The request line loses the gateway's path prefix; the client's
/// fields keep their order and values, less the hop-by-hop and proxy fields YARP never forwards, the client's own
/// forwarding fields (replaced, so none can be spoofed) and the gateway's session cookie; then X-Forwarded-For,
/// -Proto, -Host (the Host as sent) and -Prefix. Same-name fields stay separate lines where HttpClient joins
/// them with commas: the same field to any recipient (RFC 9110 §5.3); the order of different names differs from
/// Kestrel's enumeration, which carries no meaning either.
/// </summary>
internal static class WorkspaceRequestHead
{
    /// <summary>
    /// Writes the head into <paramref name="destination"/> and returns its length, or -1 when it does not fit
    /// (the request then goes the YARP way).
    /// </summary>
    public static int Write(ReadOnlySpan<byte> request, in Http1RequestHead head, in ForwardedFrom from, Span<byte> destination)
    {
        var writer = new HeadWriter(destination);
        writer.Write(head.IsHead ? "HEAD "u8 : "GET "u8);
        writer.Write(request[head.Target][from.PrefixLength..]);
        writer.Write(" HTTP/1.1\r\n"u8);
        for (var i = 0; i < head.FieldCount; i++)
        {
            var field = head.Fields[i];
            var name = request[field.Name];
            var value = request[field.Value];
            if (IsNotForwarded(name))
            {
                continue;
            }

            if (Ascii.EqualsIgnoreCase(name, "cookie"u8) && Http1Syntax.Contains(value, from.CookieName))
            {
                WriteCookieWithoutOurs(ref writer, name, value, from.CookieName);
                continue;
            }

            writer.WriteField(name, value);
        }

        if (head.IsWebSocket)
        {
            // Hop-by-hop, so not copied above: the workspace's hop asks for the upgrade anew, in the client's words.
            writer.Write("Connection: Upgrade\r\nUpgrade: "u8);
            writer.Write(request[head.Upgrade]);
            writer.Write("\r\n"u8);
        }

        // As the gateway's transformer: a trusted load balancer's X-Forwarded-For is appended to (its values joined
        // with "," as Kestrel joins same-name fields) and its first X-Forwarded-Proto and -Host kept; anyone else's
        // are replaced.
        writer.Write("X-Forwarded-For: "u8);
        if (from.TrustedProxy && WriteJoined(ref writer, request, head, "x-forwarded-for"u8))
        {
            writer.Write(", "u8);
        }

        writer.Write(from.ClientAddress);
        writer.Write("\r\nX-Forwarded-Proto: "u8);
        var proto = from.TrustedProxy ? FirstForwarded(request, head, "x-forwarded-proto"u8) : default;
        writer.Write(!proto.IsEmpty ? proto : from.Https ? "https"u8 : "http"u8);
        writer.Write("\r\nX-Forwarded-Host: "u8);
        var host = from.TrustedProxy ? FirstForwarded(request, head, "x-forwarded-host"u8) : default;
        writer.Write(!host.IsEmpty ? host : request[head.Host]);
        writer.Write("\r\n"u8);
        if (from.PrefixLength > 0)
        {
            writer.Write("X-Forwarded-Prefix: "u8);
            writer.Write(request[head.Target][..from.PrefixLength]);
            writer.Write("\r\n"u8);
        }

        writer.Write("\r\n"u8);
        return writer.Overflowed ? -1 : writer.Written;
    }

    /// <summary>
    /// The first element of the <paramref name="name"/> fields' list (the first field's value up to a comma, trimmed),
    /// as the gateway reads a trusted load balancer's X-Forwarded-Proto and -Host; empty when there is none. Kestrel
    /// keeps no empty field value, so neither is one here.
    /// </summary>
    public static ReadOnlySpan<byte> FirstForwarded(ReadOnlySpan<byte> request, scoped in Http1RequestHead head, ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < head.FieldCount; i++)
        {
            var field = head.Fields[i];
            if (Ascii.EqualsIgnoreCase(request[field.Name], name) && request[field.Value] is { IsEmpty: false } value)
            {
                var comma = value.IndexOf((byte)',');
                return (comma < 0 ? value : value[..comma]).Trim(" \t"u8);
            }
        }

        return default;
    }

    // Every value of the fields named so, joined with "," (empty ones left out, as Kestrel does); true when that wrote anything.
    private static bool WriteJoined(ref HeadWriter writer, ReadOnlySpan<byte> request, in Http1RequestHead head, ReadOnlySpan<byte> name)
    {
        var fields = 0;
        var written = writer.Written;
        for (var i = 0; i < head.FieldCount; i++)
        {
            var field = head.Fields[i];
            if (Ascii.EqualsIgnoreCase(request[field.Name], name) && !request[field.Value].IsEmpty)
            {
                if (fields++ > 0)
                {
                    writer.Write(","u8);
                }

                writer.Write(request[field.Value]);
            }
        }

        return writer.Written > written;
    }

    // YARP's never, and the client's own forwarding fields, which the gateway's transformer replaces.
    private static bool IsNotForwarded(ReadOnlySpan<byte> name) =>
        Http1Syntax.IsNeverRelayed(name)
        || Ascii.EqualsIgnoreCase(name, "forwarded"u8)
        || Ascii.EqualsIgnoreCase(name, "x-forwarded-for"u8)
        || Ascii.EqualsIgnoreCase(name, "x-forwarded-host"u8)
        || Ascii.EqualsIgnoreCase(name, "x-forwarded-proto"u8)
        || Ascii.EqualsIgnoreCase(name, "x-forwarded-prefix"u8);

    // As SessionCookie.WithoutAll: every pair trimmed of spaces, empty ones and ours (plain or __Host-) left out,
    // the rest joined with "; "; nothing left, no field.
    private static void WriteCookieWithoutOurs(ref HeadWriter writer, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, string cookieName)
    {
        var any = false;
        foreach (var range in value.Split((byte)';'))
        {
            var pair = value[range].Trim((byte)' ');
            if (pair.IsEmpty || Http1Syntax.IsCookieNamed(pair, cookieName))
            {
                continue;
            }

            if (!any)
            {
                writer.Write(name);
                writer.Write(": "u8);
                any = true;
            }
            else
            {
                writer.Write("; "u8);
            }

            writer.Write(pair);
        }

        if (any)
        {
            writer.Write("\r\n"u8);
        }
    }
}
