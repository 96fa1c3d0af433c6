namespace Gateway.Auth;

/// <summary>What a valid ticket or session says: who (<c>sub</c>) may open which workspace (<c>sid</c>) until when.</summary>
internal readonly record struct Credential(string Sid, string Subject, DateTimeOffset ExpiresAt);

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
