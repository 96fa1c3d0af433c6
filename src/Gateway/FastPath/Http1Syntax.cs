using System.Buffers;
using System.Text;

namespace Gateway.FastPath;

/// <summary>The pieces of RFC 9110's grammar both of the fast path's readers use.</summary>
internal static class Http1Syntax
{
    // tchar (RFC 9110 §5.6.2).
    private static readonly SearchValues<byte> TokenCharacters =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>A field name: one or more tchar.</summary>
    public static bool IsToken(ReadOnlySpan<byte> text) => !text.IsEmpty && text.IndexOfAnyExcept(TokenCharacters) < 0;

    /// <summary>
    /// Field value text (RFC 9110 §5.5): visible ASCII, spaces and tabs, and bytes from 0x80 when
    /// <paramref name="obsText"/>; never CR, LF, NUL or another control.
    /// </summary>
    public static bool IsFieldValue(ReadOnlySpan<byte> value, bool obsText)
    {
        foreach (var b in value)
        {
            if (b is (< 0x20 and not (byte)'\t') or 0x7F || (b >= 0x80 && !obsText))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The fields YARP's RequestUtilities relays in neither direction: hop-by-hop and proxy fields (RFC 9110 §7.6.1)
    /// and a few that would change the next hop's connection.
    /// </summary>
    public static bool IsNeverRelayed(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "connection"u8)
        || Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8)
        || Ascii.EqualsIgnoreCase(name, "keep-alive"u8)
        || Ascii.EqualsIgnoreCase(name, "upgrade"u8)
        || Ascii.EqualsIgnoreCase(name, "proxy-connection"u8)
        || Ascii.EqualsIgnoreCase(name, "proxy-authenticate"u8)
        || Ascii.EqualsIgnoreCase(name, "proxy-authentication-info"u8)
        || Ascii.EqualsIgnoreCase(name, "proxy-authorization"u8)
        || Ascii.EqualsIgnoreCase(name, "proxy-features"u8)
        || Ascii.EqualsIgnoreCase(name, "proxy-instruction"u8)
        || Ascii.EqualsIgnoreCase(name, "security-scheme"u8)
        || Ascii.EqualsIgnoreCase(name, "alpn"u8)
        || Ascii.EqualsIgnoreCase(name, "close"u8)
        || Ascii.EqualsIgnoreCase(name, "http2-settings"u8)
        || Ascii.EqualsIgnoreCase(name, "upgrade-insecure-requests"u8)
        || Ascii.EqualsIgnoreCase(name, "te"u8)
        || Ascii.EqualsIgnoreCase(name, "alt-svc"u8);

    /// <summary>
    /// Whether <paramref name="text"/> holds <paramref name="ascii"/> anywhere, byte for byte (as SessionCookie.MentionedIn
    /// and TicketParameter.MayContain look for a name in a field or a query). A name with other characters is in no
    /// head the fast path takes, whose text is visible ASCII.
    /// </summary>
    public static bool Contains(ReadOnlySpan<byte> text, string ascii)
    {
        if (ascii.Length > text.Length || !Ascii.IsValid(ascii))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[ascii.Length];
        Encoding.ASCII.GetBytes(ascii, bytes);
        return text.IndexOf(bytes) >= 0;
    }

    /// <summary>Whether a cookie pair (<c>name=value</c>) is <paramref name="cookieName"/>'s, plain or <c>__Host-</c> prefixed (as SessionCookie reads it).</summary>
    public static bool IsCookieNamed(ReadOnlySpan<byte> pair, string cookieName)
    {
        if (pair.StartsWith("__Host-"u8))
        {
            pair = pair["__Host-"u8.Length..];
        }

        if (pair.Length <= cookieName.Length || pair[cookieName.Length] != (byte)'=')
        {
            return false;
        }

        for (var i = 0; i < cookieName.Length; i++)
        {
            if (pair[i] != cookieName[i])
            {
                return false;
            }
        }

        return true;
    }
}
