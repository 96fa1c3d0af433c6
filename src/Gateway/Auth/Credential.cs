using Contracts.Sharing;

namespace Gateway.Auth;

/// <summary>
/// What a valid ticket or session says: who (<c>sub</c>) may open which workspace (<c>sid</c>) until when.
/// <see cref="Port"/> 0: the owner's, for the whole workspace. Otherwise the web API gave a signed-in user
/// one port of someone else's workspace (<c>port</c> claim), which admits only while that port is shared.
/// <see cref="WorkspaceName"/>: what the owner named it, for the editor's welcome; admits nothing.
/// </summary>
internal readonly record struct Credential(string Sid, string Subject, DateTimeOffset ExpiresAt, int Port = 0, string? WorkspaceName = null)
{
    /// <summary>Whether this credential opens <paramref name="port"/> (0: the editor) of <paramref name="sid"/> shared at <paramref name="sharing"/>.</summary>
    public bool Opens(ReadOnlySpan<char> sid, int port, PortSharing sharing) =>
        sid.SequenceEqual(Sid) && (Port == 0 || (port == Port && sharing != PortSharing.Private));
}

internal enum TokenKind
{
    /// <summary>Minted by the web API, presented once in the URL or as a Bearer token.</summary>
    Ticket,

    /// <summary>Minted by the gateway in exchange for a ticket, carried by the session cookie.</summary>
    Session,
}

/// <summary>The outcome of checking one token: a credential, or a short reason fit for a log line (never the token).</summary>
internal readonly record struct TokenCheck(Credential Credential, string? Failure)
{
    public bool IsValid => Failure is null;

    public static TokenCheck Invalid(string reason) => new(default, reason);
}
