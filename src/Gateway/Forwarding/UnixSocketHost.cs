using System.Text;

namespace Gateway.Forwarding;

/// <summary>
/// A workspace on a Unix socket (a <c>unix:</c> route) still gets an <c>http://</c> destination, whose host
/// carries the socket's path: base32 of its bytes in DNS labels under <c>.unix.invalid</c> (a name that can
/// never resolve, RFC 6761). The forwarder's connect callback reads the path back from the host it is asked
/// for, so the destination needs no table beside it, and the connection pool keeps one pool per socket as it
/// keeps one per <c>host:port</c>. The browser's Host header is forwarded, never this one.
/// </summary>
internal static class UnixSocketHost
{
    private const string Suffix = ".unix.invalid";
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private const int LabelLength = 63;

    public static string Encode(string socketPath)
    {
        var bytes = Encoding.UTF8.GetBytes(socketPath);
        var host = new StringBuilder((bytes.Length * 8 / 5) + 8 + Suffix.Length);
        int buffer = 0, bits = 0, written = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                Append(host, Alphabet[(buffer >> (bits - 5)) & 31], ref written);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            Append(host, Alphabet[(buffer << (5 - bits)) & 31], ref written);
        }

        return host.Append(Suffix).ToString();
    }

    /// <summary>The socket path <paramref name="host"/> carries; false for every other host.</summary>
    public static bool TryDecode(string host, out string socketPath)
    {
        socketPath = "";
        if (!host.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in host.AsSpan(0, host.Length - Suffix.Length))
        {
            if (c == '.')
            {
                continue;
            }

            var value = Alphabet.IndexOf(char.ToLowerInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                return false;
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        socketPath = Encoding.UTF8.GetString([.. bytes]);
        return socketPath.Length > 0;
    }

    private static void Append(StringBuilder host, char c, ref int written)
    {
        if (written > 0 && written % LabelLength == 0)
        {
            host.Append('.');
        }

        host.Append(c);
        written++;
    }
}
