namespace Gateway.Auth;

/// <summary>
/// The ticket in a query string (<c>?ticket=&lt;jwt&gt;</c>): found for the first navigation and removed
/// from every address the gateway forwards or redirects to, so it never reaches a workspace or a history entry.
/// </summary>
internal static class TicketParameter
{
    /// <summary>The first value of <paramref name="name"/> in <paramref name="query"/> (with or without its '?').</summary>
    public static bool TryFind(ReadOnlySpan<char> query, string name, out string value)
    {
        foreach (var range in query.TrimStart('?').Split('&'))
        {
            var pair = query.TrimStart('?')[range];
            if (IsNamed(pair, name))
            {
                value = Uri.UnescapeDataString(pair[(name.Length + 1)..]);
                return true;
            }
        }

        value = "";
        return false;
    }

    /// <summary>Cheap pre-check before any parsing: most queries never mention the parameter.</summary>
    public static bool MayContain(ReadOnlySpan<char> query, string name) =>
        query.Length > name.Length && query.Contains(name, StringComparison.Ordinal);

    /// <summary><paramref name="query"/> ("?..." or empty) without any <paramref name="name"/> pair; "" when nothing is left.</summary>
    public static string Without(ReadOnlySpan<char> query, string name)
    {
        if (query.IsEmpty)
        {
            return "";
        }

        var kept = new System.Text.StringBuilder(query.Length);
        var pairs = query.TrimStart('?');
        foreach (var range in pairs.Split('&'))
        {
            var pair = pairs[range];
            if (IsNamed(pair, name) || pair.SequenceEqual(name))
            {
                continue;
            }

            kept.Append(kept.Length == 0 ? '?' : '&').Append(pair);
        }

        return kept.ToString();
    }

    private static bool IsNamed(ReadOnlySpan<char> pair, string name) =>
        pair.Length > name.Length && pair[name.Length] == '=' && pair.StartsWith(name, StringComparison.Ordinal);
}
