namespace WebApi.Accounts;

/// <summary>
/// An account's identity at an OpenID Connect provider: the issuer and the subject it gives the person, which
/// never changes (OpenID Connect Core §5.7: the e-mail address or user name may, and may be reassigned).
/// </summary>
public sealed class ExternalLogin
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public required string Issuer { get; set; }

    public required string Subject { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
