namespace WebApi.Accounts;

public enum CodePurpose
{
    VerifyEmail,
    ResetPassword,
}

/// <summary>
/// The one live secret of a kind an account was mailed: a verification code or a password-reset link. Only its
/// SHA-256 is kept, so a copy of the database does not hold a usable reset link; issuing another replaces it,
/// using it deletes it.
/// </summary>
public sealed class AccountCode
{
    public long UserId { get; set; }

    public CodePurpose Purpose { get; set; }

    public required byte[] Hash { get; set; }

    public DateTimeOffset IssuedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Wrong guesses so far: past the limit the code is void and a new one must be sent.</summary>
    public int FailedAttempts { get; set; }

    /// <summary>The start of the hour whose mails of this kind <see cref="MailsThisHour"/> counts.</summary>
    public DateTimeOffset HourStartedAt { get; set; }

    public int MailsThisHour { get; set; }
}
