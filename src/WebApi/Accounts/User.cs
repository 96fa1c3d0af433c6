namespace WebApi.Accounts;

public sealed class User
{
    public long Id { get; set; }

    public required string UserName { get; set; }

    /// <summary>Upper-case invariant form: names are unique regardless of case.</summary>
    public required string NormalizedUserName { get; set; }

    public required string Email { get; set; }

    public required string NormalizedEmail { get; set; }

    public required string PasswordHash { get; set; }

    /// <summary>
    /// How many workspaces the user has; kept in the same transaction as every insert and delete, with a
    /// CHECK constraint at the limit, so two concurrent creates cannot both pass it.
    /// </summary>
    public int WorkspaceCount { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the account proved its address; null until then. Accounts older than verification count as verified.</summary>
    public DateTimeOffset? EmailVerifiedAt { get; set; }

    /// <summary>
    /// Part of every session cookie and checked on every request: raising it (a changed or reset password)
    /// ends every session issued before, on every replica, at their next request.
    /// </summary>
    public int SessionEpoch { get; set; }
}
