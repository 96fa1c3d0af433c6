using System.Globalization;

namespace Contracts.Routing;

/// <summary>
/// How a workspace's own origins are named under the workspace domain: <c>&lt;sid&gt;.&lt;domain&gt;</c> for the
/// editor, <c>&lt;port&gt;--&lt;sid&gt;.&lt;domain&gt;</c> for a dev server (the separator Coder uses; "--"
/// cannot start or end a sid label, so the split is unambiguous). The web API builds these names and reads
/// back the ones it is asked to open; the gateway's own parser (strict, allocation-free) decides what it serves.
/// </summary>
public static class WorkspaceOrigins
{
    public const string PortSeparator = "--";

    /// <summary>The host (with the domain's port, if any) of <paramref name="sid"/>'s editor, or of its dev server on <paramref name="port"/>.</summary>
    public static string Host(string sid, int port, string domain) =>
        port == 0 ? $"{sid}.{domain}" : string.Concat(port.ToString(CultureInfo.InvariantCulture), PortSeparator, sid, ".", domain);

    /// <summary>
    /// Reads <paramref name="host"/> back (exactly as <see cref="Host"/> spells it): the sid and the port (0 for
    /// the editor). Only the shape is checked; the sid still has to be looked up.
    /// </summary>
    public static bool TryRead(string host, string domain, out string sid, out int port)
    {
        sid = "";
        port = 0;
        var suffix = "." + domain;
        if (!host.EndsWith(suffix, StringComparison.Ordinal) || host.Length == suffix.Length)
        {
            return false;
        }

        var label = host[..^suffix.Length];
        if (label.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }

        var separator = label.IndexOf(PortSeparator, StringComparison.Ordinal);
        if (separator < 0)
        {
            sid = label;
            return true;
        }

        if (!PortNumber.TryParse(label.AsSpan(0, separator), out port))
        {
            return false;
        }

        sid = label[(separator + PortSeparator.Length)..];
        return sid.Length > 0;
    }
}
