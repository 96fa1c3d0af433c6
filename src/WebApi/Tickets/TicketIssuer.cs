using Contracts.Routing;
using Contracts.Tickets;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WebApi.Configuration;

namespace WebApi.Tickets;

/// <summary>Where a ticket leads: workspace <paramref name="Sid"/>'s editor (port 0) or one of its dev-server ports.</summary>
public sealed record TicketTarget(string Sid, int Port, string Address);

/// <summary>
/// Mints the gateway's access tickets (docs/security.md): an HS256 JWT with the shared key, <c>aud</c> = the
/// gateway's audience, <c>sid</c> = the workspace, <c>sub</c> = the user, a short <c>exp</c>, for the
/// owner the workspace's name (<c>workspace_name</c>, shown in the editor's welcome), and for a user who is not the owner a <c>port</c> claim (the gateway admits such a ticket only on that port and
/// only while it is shared). The gateway turns it into its own session cookie on first use. Also builds
/// and reads the addresses tickets are for.
/// </summary>
internal sealed class TicketIssuer
{
    private readonly TicketOptions _options;
    private readonly SigningCredentials _signing;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new();

    public TicketIssuer(IOptions<WebApiOptions> options, TimeProvider time)
    {
        _options = options.Value.Tickets;
        _signing = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(_options.SigningKey)), SecurityAlgorithms.HmacSha256);
        _time = time;
    }

    /// <param name="port">0: the owner's ticket for the whole workspace; otherwise for that port only.</param>
    /// <param name="workspaceName">The name its owner gave it, which the editor's welcome shows (owner's tickets only).</param>
    public string Issue(string sid, long userId, int port = 0, string? workspaceName = null)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            [TicketContract.SubjectClaim] = userId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [TicketContract.SidClaim] = sid,
        };
        if (port != 0)
        {
            claims[TicketContract.PortClaim] = port;
        }
        else if (workspaceName is not null)
        {
            claims[TicketContract.WorkspaceNameClaim] = workspaceName;
        }

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Audience = _options.Audience,
            Issuer = TicketContract.Issuer,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _options.Lifetime,
            SigningCredentials = _signing,
            Claims = claims,
        });
    }

    /// <summary>
    /// The editor's address: <c>&lt;scheme&gt;://&lt;sid&gt;.&lt;domain&gt;/</c> with host-based routing,
    /// <c>/ws/&lt;sid&gt;/</c> on the gateway otherwise. <paramref name="requestScheme"/> stands in when the
    /// gateway's URL is relative.
    /// </summary>
    public string EditorAddress(string sid, string requestScheme) => Address(sid, 0, requestScheme);

    /// <summary>A dev-server port's own origin; null without host-based routing (ports are shared only there).</summary>
    public string? PortAddress(string sid, int port, string requestScheme) =>
        HostRouting ? Address(sid, port, requestScheme) : null;

    public bool HostRouting => _options.WorkspaceDomain.Length > 0;

    /// <summary>
    /// Reads an address the gateway sent a browser away from (<c>returnTo</c>): an origin of a workspace under
    /// the workspace domain, or a <c>/ws/&lt;sid&gt;/</c> path on the gateway. Anything else is not ours to
    /// send anyone to, so it reads as nothing.
    /// </summary>
    public TicketTarget? Read(string? returnTo, string requestScheme)
    {
        if (string.IsNullOrEmpty(returnTo))
        {
            return null;
        }

        if (returnTo.StartsWith("/ws/", StringComparison.Ordinal))
        {
            var end = returnTo.IndexOf('/', 4);
            return end > 4 ? new TicketTarget(returnTo[4..end], 0, Gateway().TrimEnd('/') + returnTo) : null;
        }

        if (!HostRouting || !Uri.TryCreate(returnTo, UriKind.Absolute, out var address)
            || address.Scheme != Scheme(requestScheme) || address.UserInfo.Length > 0
            || !WorkspaceOrigins.TryRead(address.IsDefaultPort ? address.Host : address.Authority, _options.WorkspaceDomain, out var sid, out var port))
        {
            return null;
        }

        return new TicketTarget(sid, port, address.AbsoluteUri);
    }

    /// <summary><paramref name="address"/> with <c>ticket=</c> added to its query.</summary>
    public static string WithTicket(string address, string ticket)
    {
        var fragment = address.IndexOf('#', StringComparison.Ordinal);
        var (head, tail) = fragment < 0 ? (address, "") : (address[..fragment], address[fragment..]);
        return string.Concat(head, head.Contains('?', StringComparison.Ordinal) ? "&" : "?", "ticket=", ticket, tail);
    }

    private string Address(string sid, int port, string requestScheme) =>
        HostRouting
            ? $"{Scheme(requestScheme)}://{WorkspaceOrigins.Host(sid, port, _options.WorkspaceDomain)}/"
            : $"{Gateway().TrimEnd('/')}/ws/{sid}/";

    private string Gateway() => _options.GatewayUrl;

    private string Scheme(string requestScheme) =>
        Uri.TryCreate(_options.GatewayUrl, UriKind.Absolute, out var gateway) ? gateway.Scheme : requestScheme;
}
