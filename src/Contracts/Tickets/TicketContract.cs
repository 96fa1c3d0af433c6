namespace Contracts.Tickets;

/// <summary>
/// The access ticket the web API mints and the gateway checks, and the gateway's own session token: a JWT
/// (docs/security.md). The issuer names who minted it, so a token of one kind, or of another system sharing the
/// key, is not taken for the other; the session's audience is the ticket's with a suffix, for the same reason.
/// </summary>
public static class TicketContract
{
    /// <summary>Who mints tickets: the web API.</summary>
    public const string Issuer = "workspace-webapi";

    /// <summary>Who mints sessions: the gateway, when it takes a ticket.</summary>
    public const string SessionIssuer = "workspace-gateway";

    /// <summary>The <c>aud</c> of tickets unless the installation names another (both programs' settings).</summary>
    public const string DefaultAudience = "workspace-gateway";

    /// <summary>The <c>aud</c> of the gateway's sessions for tickets of <paramref name="audience"/>.</summary>
    public static string SessionAudience(string audience) => audience + "/session";

    /// <summary>The user, as the web API numbers them.</summary>
    public const string SubjectClaim = "sub";

    /// <summary>The workspace.</summary>
    public const string SidClaim = "sid";

    /// <summary>Present on a ticket for one dev-server port of someone else's workspace: only that port, while shared.</summary>
    public const string PortClaim = "port";

    /// <summary>The name the owner gave the workspace, which the editor's welcome shows (owner's tickets only).</summary>
    public const string WorkspaceNameClaim = "workspace_name";
}
