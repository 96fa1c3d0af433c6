using Microsoft.Extensions.Primitives;

namespace Gateway.Auth;

/// <summary>
/// The wire format of the gateway's session cookie (RFC 6265 §4.2: <c>name=value</c> pairs joined by
/// <c>"; "</c>): finding ours in a Cookie header without allocating, and removing it before the request
/// goes to a workspace.
/// </summary>
internal static class SessionCookie
{
    /// <summary>
    /// On a workspace's own origin over HTTPS the cookie is named with this prefix: browsers accept such a
    /// cookie only from that host, Secure, with <c>Path=/</c> and no Domain (RFC 6265bis §4.1.3.2), so a page on
    /// a sibling origin (another workspace's dev server) cannot plant one for it with <c>Domain=</c>.
    /// </summary>
    public const string HostPrefix = "__Host-";

    public static bool TryFind(StringValues cookieHeaders, string name, out ReadOnlySpan<char> value)
    {
        foreach (var header in cookieHeaders)
        {
            if (header is not null && TryFind(header.AsSpan(), name, out value))
            {
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// The Cookie header lines joined as one, without any pair named <paramref name="name"/> (with or without
    /// <see cref="HostPrefix"/>); null when
    /// nothing is left, the common case of a browser that holds only the gateway's cookie for this path.
    /// </summary>
    public static string? WithoutAll(StringValues headers, string name)
    {
        if (headers.Count == 1 && headers[0] is { } only && IsOurs(only.AsSpan().Trim(' '), name) && !only.Contains(';', StringComparison.Ordinal))
        {
            return null;
        }

        var kept = new System.Text.StringBuilder();
        foreach (var header in headers)
        {
            foreach (var range in header.AsSpan().Split(';'))
            {
                var pair = header.AsSpan(range).Trim(' ');
                if (pair.IsEmpty || IsOurs(pair, name))
                {
                    continue;
                }

                if (kept.Length > 0)
                {
                    kept.Append("; ");
                }

                kept.Append(pair);
            }
        }

        return kept.Length == 0 ? null : kept.ToString();
    }

    /// <summary>
    /// A Set-Cookie value: HttpOnly (page scripts, including a workspace's own pages on this origin, cannot
    /// read it), SameSite=Lax (sent on the top-level navigation from the dashboard, not on cross-site
    /// subrequests), scoped to the one workspace's path (<paramref name="pathSid"/>), or, on a workspace's own
    /// origin (null), to that host alone: no Domain attribute, so no other workspace's origin ever gets it
    /// (RFC 6265 §5.3 step 6). <paramref name="name"/> is <see cref="AccessTokens.CookieName"/> for the same request.
    /// </summary>
    public static string Format(Configuration.AuthOptions options, string name, string token, string? pathSid, bool secure) => string.Concat(
        name, "=", token,
        pathSid is null ? "; Path=/" : string.Concat("; Path=/ws/", pathSid, "/"),
        "; Max-Age=", ((long)options.SessionLifetime.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "; HttpOnly; SameSite=Lax", secure ? "; Secure" : "");

    /// <summary>Cheap pre-check (no allocation) before the Cookie header is rebuilt without ours.</summary>
    public static bool MentionedIn(StringValues cookieHeaders, string name)
    {
        foreach (var header in cookieHeaders)
        {
            if (header is not null && header.Contains(name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a Set-Cookie value (from a workspace) would set or clear a cookie named <paramref name="name"/>, prefixed or not.</summary>
    public static bool Sets(string setCookie, string name) => IsOurs(setCookie.AsSpan().TrimStart(' '), name);

    public static bool AnySets(StringValues setCookies, string name)
    {
        foreach (var value in setCookies)
        {
            if (value is not null && Sets(value, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The value of the first pair named <paramref name="name"/> in one Cookie field's value.</summary>
    public static bool TryFind(ReadOnlySpan<char> header, string name, out ReadOnlySpan<char> value)
    {
        foreach (var range in header.Split(';'))
        {
            var pair = header[range].Trim(' ');
            if (IsNamed(pair, name))
            {
                value = pair[(name.Length + 1)..].Trim('"');
                return !value.IsEmpty;
            }
        }

        value = default;
        return false;
    }

    private static bool IsOurs(ReadOnlySpan<char> pair, string name) =>
        IsNamed(pair, name) || (pair.StartsWith(HostPrefix, StringComparison.Ordinal) && IsNamed(pair[HostPrefix.Length..], name));

    private static bool IsNamed(ReadOnlySpan<char> pair, string name) =>
        pair.Length > name.Length && pair[name.Length] == '=' && pair.StartsWith(name, StringComparison.Ordinal);
}
