using System.Buffers;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Reads the workspace origin out of a Host header without allocating: <c>&lt;sid&gt;.&lt;domain&gt;</c> for the
/// editor, <c>&lt;port&gt;--&lt;sid&gt;.&lt;domain&gt;</c> for a dev server (the separator Coder uses; "--" cannot
/// start or end a sid label, so the split is unambiguous). Anything that claims the workspace domain but is not
/// exactly such a name is refused rather than guessed at: browsers send host names lower-case, without a
/// trailing dot, with the port the user typed, so any other spelling is a client crafting it, and two
/// spellings of one origin would be two cookie jars.
/// </summary>
internal sealed class WorkspaceHostParser
{
    private const string PortSeparator = Contracts.Routing.WorkspaceOrigins.PortSeparator;

    // RFC 1035 §2.3.1 labels, lower-case only (see above).
    private static readonly SearchValues<char> LabelCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");

    private readonly WorkspacePathParser _paths;
    private volatile Domain? _domain;

    public WorkspaceHostParser(IOptionsMonitor<GatewayOptions> options, WorkspacePathParser paths)
    {
        _paths = paths;
        _domain = Domain.From(options.CurrentValue.Routes.WorkspaceDomain);
        options.OnChange(o => _domain = Domain.From(o.Routes.WorkspaceDomain));
    }

    /// <summary>Whether host-based routing is configured at all.</summary>
    public bool Enabled => _domain is not null;

    public WorkspaceHost Parse(string? host) => Parse(host.AsSpan());

    /// <summary>As <see cref="Parse(string?)"/>, for a Host field not yet made a string.</summary>
    public WorkspaceHost Parse(ReadOnlySpan<char> host)
    {
        var domain = _domain;
        if (domain is null || host.IsEmpty || host[0] == '[')
        {
            return new WorkspaceHost(WorkspaceHostKind.NotWorkspaceHost);
        }

        var span = host;
        var colon = span.LastIndexOf(':');
        var name = colon < 0 ? span : span[..colon];
        var port = colon < 0 ? default : span[(colon + 1)..];
        var trailingDot = name.EndsWith('.');
        if (trailingDot)
        {
            name = name[..^1];
        }

        // Under the domain at all (any case)? If not, the request is someone else's: the platform's page, or
        // a path-routed workspace on the gateway's own name.
        var suffixStart = name.Length - domain.Name.Length;
        if (suffixStart < 2 || name[suffixStart - 1] != '.' || !name[suffixStart..].Equals(domain.Name, StringComparison.OrdinalIgnoreCase))
        {
            return new WorkspaceHost(WorkspaceHostKind.NotWorkspaceHost);
        }

        if (trailingDot || (colon >= 0 && port.IsEmpty) || !port.SequenceEqual(domain.Port))
        {
            return new WorkspaceHost(WorkspaceHostKind.Invalid);
        }

        // One label before the domain: "a.b.<domain>" and "..<domain>" name no workspace; upper case is refused here.
        var label = name[..(suffixStart - 1)];
        if (label.Length > 63 || label.ContainsAnyExcept(LabelCharacters) || !name[suffixStart..].SequenceEqual(domain.Name))
        {
            return new WorkspaceHost(WorkspaceHostKind.Invalid);
        }

        var separator = label.IndexOf(PortSeparator, StringComparison.Ordinal);
        if (separator < 0)
        {
            return IsSidLabel(label) ? new WorkspaceHost(WorkspaceHostKind.Editor, 0, label.Length) : new WorkspaceHost(WorkspaceHostKind.Invalid);
        }

        var sidStart = separator + PortSeparator.Length;
        var sid = label[sidStart..];
        if (!Contracts.Routing.PortNumber.TryParse(label[..separator], out var number) || !IsSidLabel(sid))
        {
            return new WorkspaceHost(WorkspaceHostKind.Invalid);
        }

        return new WorkspaceHost(WorkspaceHostKind.Port, sidStart, sid.Length, number);
    }

    /// <summary>Whether <paramref name="host"/> is an origin of workspace <paramref name="sid"/> (editor or port).</summary>
    public bool IsOriginOf(string? host, ReadOnlySpan<char> sid)
    {
        var parsed = Parse(host);
        return parsed.IsWorkspace && host.AsSpan(parsed.SidStart, parsed.SidLength).SequenceEqual(sid);
    }

    // A sid the path accepts is not always a host label: upper case, '_', a leading or trailing '-', or "--"
    // (our separator, and punycode's "xn--") can only be reached by path.
    private bool IsSidLabel(ReadOnlySpan<char> sid) =>
        sid.Length > 0 && sid[0] != '-' && sid[^1] != '-'
        && !sid.Contains(PortSeparator, StringComparison.Ordinal) && _paths.IsValidSid(sid);

    private sealed class Domain(string name, string port)
    {
        /// <summary>The domain's host name, lower case.</summary>
        public string Name { get; } = name;

        /// <summary>The port browsers put in Host for it ("" when they put none: 80 or 443 behind a load balancer).</summary>
        public string Port { get; } = port;

        public static Domain? From(string? setting)
        {
            if (string.IsNullOrWhiteSpace(setting))
            {
                return null;
            }

            var colon = setting.LastIndexOf(':');
            return colon < 0 ? new Domain(setting, "") : new Domain(setting[..colon], setting[(colon + 1)..]);
        }
    }
}
