using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.FastPath;

/// <summary>
/// What the gateway adds to or takes from every answer it relays: its session cookie is never set by a workspace,
/// the Strict-Transport-Security field is the gateway's alone (its own over TLS when configured, the workspace's
/// never), and a <c>Date</c> when the workspace sent none, as Kestrel adds one.
/// </summary>
internal readonly ref struct RelayedAnswer(string cookieName, ReadOnlySpan<byte> strictTransportSecurity, ReadOnlySpan<byte> date)
{
    public string CookieName { get; } = cookieName;

    /// <summary>The gateway's field value over TLS with HSTS on; empty otherwise.</summary>
    public ReadOnlySpan<byte> StrictTransportSecurity { get; } = strictTransportSecurity;

    /// <summary>The current time as an IMF-fixdate (RFC 9110 §5.6.7).</summary>
    public ReadOnlySpan<byte> Date { get; } = date;
}

/// <summary>
/// The head the client gets for a workspace's answer the fast path relays: what Kestrel writes for it after YARP and
/// the gateway's transformer, field for field. The status line is the workspace's (YARP passes its reason phrase
/// on; without one, Kestrel's for the code); the workspace's fields
/// keep their order and values, less the hop-by-hop and proxy fields YARP never relays, any field setting the
/// gateway's session cookie and the workspace's Strict-Transport-Security; then the gateway's own. The body's
/// framing fields pass as they came: the fast path relays the body as framed.
/// </summary>
internal static class ClientResponseHead
{
    /// <summary>Writes the head into <paramref name="destination"/> and returns its length, or -1 when it does not fit.</summary>
    public static int Write(ReadOnlySpan<byte> response, in Http1ResponseHead head, in RelayedAnswer answer, Span<byte> destination)
    {
        var writer = new HeadWriter(destination);
        var statusLine = response[..response.IndexOf("\r\n"u8)];
        writer.Write(statusLine);
        if (statusLine.Length == 13)
        {
            // No reason phrase: Kestrel writes its own for the code.
            writer.WriteAscii(ReasonPhrases.GetReasonPhrase(head.Status));
        }

        writer.Write("\r\n"u8);

        var dated = false;
        var fields = response[(statusLine.Length + 2)..(head.Length - 2)];
        while (!fields.IsEmpty)
        {
            var end = fields.IndexOf("\r\n"u8);
            var field = fields[..end];
            fields = fields[(end + 2)..];
            var colon = field.IndexOf((byte)':');
            var name = field[..colon];
            var value = field[(colon + 1)..].Trim(" \t"u8);

            // Transfer-Encoding stays: the body goes on chunked, as Kestrel would send it too.
            if ((Http1Syntax.IsNeverRelayed(name) && !Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
                || Ascii.EqualsIgnoreCase(name, "strict-transport-security"u8)
                || (Ascii.EqualsIgnoreCase(name, "set-cookie"u8) && SetsOurs(value, answer.CookieName)))
            {
                continue;
            }

            dated |= Ascii.EqualsIgnoreCase(name, "date"u8);
            writer.WriteField(name, value);
        }

        if (!dated)
        {
            writer.WriteField("Date"u8, answer.Date);
        }

        if (head.IsSwitching)
        {
            // Hop-by-hop, so not copied above; without them a 101 is no upgrade to the client (RFC 9110 §7.8).
            writer.WriteField("Connection"u8, "Upgrade"u8);
            writer.WriteField("Upgrade"u8, response[head.Upgrade]);
        }

        if (!answer.StrictTransportSecurity.IsEmpty)
        {
            writer.WriteField("Strict-Transport-Security"u8, answer.StrictTransportSecurity);
        }

        writer.Write("\r\n"u8);
        return writer.Overflowed ? -1 : writer.Written;
    }

    // As SessionCookie.Sets: the cookie named first in the value is ours.
    private static bool SetsOurs(ReadOnlySpan<byte> value, string cookieName) =>
        Http1Syntax.IsCookieNamed(value.TrimStart((byte)' '), cookieName);
}
