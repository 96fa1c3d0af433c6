using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Accounts;

public enum CodeCheck
{
    Accepted,
    Wrong,

    /// <summary>Expired, used, voided by too many wrong guesses, or never sent: a new one must be asked for.</summary>
    NotLive,
}

/// <summary>
/// Issues and checks the secrets mailed to an account: a six-digit code to verify its address (typed by a
/// person, so short; five wrong guesses void it) and a 256-bit password-reset token (a link, so long enough
/// that its stored hash cannot be searched). One live secret per account and kind; issuing is rate-limited
/// per account, so neither the account's owner nor someone who knows the address can flood a mailbox.
/// </summary>
public sealed class AccountCodes(IOptions<WebApiOptions> options, TimeProvider time)
{
    public const int MaxFailedAttempts = 5;

    private readonly AccountOptions _options = options.Value.Accounts;

    /// <summary>
    /// A new secret for the account, added to <paramref name="db"/>'s changes (the caller saves it with its
    /// mail), or null and how long until one may be issued.
    /// </summary>
    public async Task<(string? Secret, TimeSpan RetryAfter)> IssueAsync(WebApiDb db, User user, CodePurpose purpose, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var code = await db.AccountCodes.SingleOrDefaultAsync(c => c.UserId == user.Id && c.Purpose == purpose, cancellationToken);
        if (code is null)
        {
            code = new AccountCode { UserId = user.Id, Purpose = purpose, Hash = [], HourStartedAt = now };
            db.AccountCodes.Add(code);
        }
        else if (now - code.IssuedAt < _options.MailInterval)
        {
            return (null, code.IssuedAt + _options.MailInterval - now);
        }
        else if (now - code.HourStartedAt >= TimeSpan.FromHours(1))
        {
            code.HourStartedAt = now;
            code.MailsThisHour = 0;
        }
        else if (code.MailsThisHour >= _options.MailsPerHour)
        {
            return (null, code.HourStartedAt + TimeSpan.FromHours(1) - now);
        }

        var secret = purpose == CodePurpose.VerifyEmail
            ? RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture)
            : $"{user.Id.ToString(CultureInfo.InvariantCulture)}.{Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32))}";
        code.Hash = Hash(user.Id, purpose, secret);
        code.IssuedAt = now;
        code.ExpiresAt = now + (purpose == CodePurpose.VerifyEmail ? _options.VerificationCodeLifetime : _options.PasswordResetLifetime);
        code.FailedAttempts = 0;
        code.MailsThisHour++;
        return (secret, TimeSpan.Zero);
    }

    /// <summary>
    /// Checks a secret the user sent and, when it is right, voids it in the same statement that finds it still
    /// live, so two requests racing with the same secret cannot both be accepted. A wrong guess is counted.
    /// </summary>
    public async Task<CodeCheck> CheckAsync(WebApiDb db, long userId, CodePurpose purpose, string secret, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var code = await db.AccountCodes.AsNoTracking().SingleOrDefaultAsync(c => c.UserId == userId && c.Purpose == purpose, cancellationToken);
        if (code is null || code.Hash.Length == 0 || code.ExpiresAt <= now || code.FailedAttempts >= MaxFailedAttempts)
        {
            return CodeCheck.NotLive;
        }

        var live = db.AccountCodes.Where(c => c.UserId == userId && c.Purpose == purpose && c.ExpiresAt == code.ExpiresAt && c.FailedAttempts < MaxFailedAttempts);

        // Compared in constant time: how long the answer takes says nothing about how much of a guess was right.
        if (!CryptographicOperations.FixedTimeEquals(Hash(userId, purpose, secret), code.Hash))
        {
            await live.ExecuteUpdateAsync(set => set.SetProperty(c => c.FailedAttempts, c => c.FailedAttempts + 1), cancellationToken);
            return CodeCheck.Wrong;
        }

        var voided = await live.ExecuteUpdateAsync(set => set.SetProperty(c => c.ExpiresAt, code.IssuedAt), cancellationToken);
        return voided == 1 ? CodeCheck.Accepted : CodeCheck.NotLive;
    }

    /// <summary>The account a reset token names (its part before the dot), or null for anything else.</summary>
    public static long? AccountOfResetToken(string? token)
    {
        var dot = token?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        return dot > 0 && long.TryParse(token.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    private static byte[] Hash(long userId, CodePurpose purpose, string secret) =>
        SHA256.HashData(Encoding.UTF8.GetBytes($"{purpose}:{userId.ToString(CultureInfo.InvariantCulture)}:{secret}"));
}
