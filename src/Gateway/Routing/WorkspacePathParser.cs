using System.Buffers;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Splits <c>/ws/&lt;sid&gt;/&lt;rest&gt;</c> without allocating. Runs on the decoded, dot-segment-normalised
/// path Kestrel gives us, so the sid it finds is the one a browser would have navigated to.
/// </summary>
internal sealed class WorkspacePathParser
{
    private const string WorkspacePrefix = "/ws/";
    private const string ProxyPrefix = "/proxy/";
    private const string AbsProxyPrefix = "/absproxy/";

    private volatile SidRules _rules;

    public WorkspacePathParser(IOptionsMonitor<GatewayOptions> options)
    {
        _rules = new SidRules(options.CurrentValue.Routes);
        options.OnChange(o => _rules = new SidRules(o.Routes));
    }

    public WorkspacePath Parse(string path)
    {
        if (!path.StartsWith(WorkspacePrefix, StringComparison.Ordinal))
        {
            return new WorkspacePath(WorkspacePathKind.NotWorkspace, 0);
        }

        var afterPrefix = path.AsSpan(WorkspacePath.SidStart);
        var slash = afterPrefix.IndexOf('/');
        var sid = slash < 0 ? afterPrefix : afterPrefix[..slash];

        if (!IsValidSid(sid))
        {
            return new WorkspacePath(WorkspacePathKind.InvalidSid, 0);
        }

        if (slash < 0)
        {
            return new WorkspacePath(WorkspacePathKind.MissingTrailingSlash, sid.Length);
        }

        var rest = afterPrefix[slash..];
        if (!HasValidPortSegment(rest))
        {
            return new WorkspacePath(WorkspacePathKind.InvalidPort, sid.Length);
        }

        return new WorkspacePath(WorkspacePathKind.Workspace, sid.Length);
    }

    public bool IsValidSid(ReadOnlySpan<char> sid)
    {
        var rules = _rules;
        return sid.Length > 0 && sid.Length <= rules.MaxLength && !sid.ContainsAnyExcept(rules.Characters);
    }

    // code-server's port proxy (Express, so matched case-insensitively) forwards to localhost:<port>;
    // anything but a real port there is a client error, not a workspace error.
    private static bool HasValidPortSegment(ReadOnlySpan<char> rest)
    {
        int portStart;
        if (rest.StartsWith(ProxyPrefix, StringComparison.OrdinalIgnoreCase))
        {
            portStart = ProxyPrefix.Length;
        }
        else if (rest.StartsWith(AbsProxyPrefix, StringComparison.OrdinalIgnoreCase))
        {
            portStart = AbsProxyPrefix.Length;
        }
        else
        {
            return true;
        }

        var port = rest[portStart..];
        var end = port.IndexOf('/');
        if (end >= 0)
        {
            port = port[..end];
        }

        if (port.Length is < 1 or > 5 || port.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        var value = 0;
        foreach (var digit in port)
        {
            value = (value * 10) + (digit - '0');
        }

        return value is >= 1 and <= 65535;
    }

    private sealed class SidRules(RoutesOptions options)
    {
        public SearchValues<char> Characters { get; } = SearchValues.Create(options.SidCharacters);

        public int MaxLength { get; } = options.SidMaxLength;
    }
}
