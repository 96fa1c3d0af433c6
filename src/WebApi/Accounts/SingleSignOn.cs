using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;
using WebApi.Mail;

namespace WebApi.Accounts;

/// <summary>
/// Turns a person the OpenID Connect provider vouched for into an account of this platform: found by the
/// provider's subject, or made at the first sign-in; refused when the installation restricts who may come
/// (e-mail domains, groups). Never linked to an existing account by its e-mail address: whoever controls a
/// provider account claiming that address would take the local account over.
/// </summary>
public sealed partial class SingleSignOn(IOptions<WebApiOptions> options, TimeProvider time, ILogger<SingleSignOn> logger)
{
    public const string Scheme = OpenIdConnectDefaults.AuthenticationScheme;

    private readonly SsoOptions _sso = options.Value.Sso;

    [GeneratedRegex("[^A-Za-z0-9_-]")]
    private static partial Regex NotInUserNames();

    /// <summary>The account for the person, or the refusal's code (<see cref="SsoRefusal"/>).</summary>
    public async Task<(User? User, string? Refusal)> AccountForAsync(WebApiDb db, ClaimsPrincipal person, string issuer, CancellationToken cancellationToken)
    {
        var subject = person.FindFirstValue("sub");
        if (string.IsNullOrEmpty(subject) || subject.Length > 256)
        {
            return (null, SsoRefusal.Failed);
        }

        var email = person.FindFirstValue("email");
        var domain = email is null ? null : MailDomain.Of(email);
        if (_sso.AllowedEmailDomains.Length > 0 && (domain is null || !_sso.AllowedEmailDomains.Contains(domain, StringComparer.OrdinalIgnoreCase)))
        {
            LogRefused(subject, "its e-mail domain is not an allowed one", domain ?? "(none)");
            return (null, SsoRefusal.Domain);
        }

        if (_sso.AllowedGroups.Length > 0 && !person.FindAll(_sso.GroupClaim).Any(group => _sso.AllowedGroups.Contains(group.Value, StringComparer.Ordinal)))
        {
            LogRefused(subject, "it is in none of the allowed groups", domain ?? "(none)");
            return (null, SsoRefusal.Group);
        }

        var linked = await db.ExternalLogins.AsNoTracking().SingleOrDefaultAsync(l => l.Issuer == issuer && l.Subject == subject, cancellationToken);
        if (linked is not null)
        {
            return (await db.Users.FindAsync([linked.UserId], cancellationToken), null);
        }

        if (email is null || email.Length > 254 || !email.Contains('@', StringComparison.Ordinal))
        {
            return (null, SsoRefusal.NoEmail);
        }

        var normalizedEmail = email.ToUpperInvariant();
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == normalizedEmail, cancellationToken))
        {
            LogRefused(subject, "an account with its e-mail address exists", domain!);
            return (null, SsoRefusal.EmailTaken);
        }

        var now = time.GetUtcNow();
        var user = new User
        {
            UserName = await FreeUserNameAsync(db, person.FindFirstValue("preferred_username") ?? email[..email.IndexOf('@', StringComparison.Ordinal)], cancellationToken),
            NormalizedUserName = "",
            Email = email,
            NormalizedEmail = normalizedEmail,

            // No password: this account signs in through the provider (a reset link can give it one).
            PasswordHash = "",
            CreatedAt = now,

            // The provider's word for the address, unless it says it has not checked it.
            EmailVerifiedAt = person.FindFirstValue("email_verified") is "false" ? null : now,
        };
        user.NormalizedUserName = user.UserName.ToUpperInvariant();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            db.Users.Add(user);
            await db.SaveChangesAsync(cancellationToken);
            db.ExternalLogins.Add(new ExternalLogin { UserId = user.Id, Issuer = issuer, Subject = subject, CreatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same person's first sign-in in two tabs at once (or a name taken meanwhile): the other one won;
            // this one says "try again", which then finds the account.
            return (null, SsoRefusal.Failed);
        }

        LogCreated(user.UserName, subject, issuer);
        return (user, null);
    }

    // The provider's name for the person, made to fit this platform's rule (3 to 32 of [A-Za-z0-9_-]) and free.
    private static async Task<string> FreeUserNameAsync(WebApiDb db, string wanted, CancellationToken cancellationToken)
    {
        var name = NotInUserNames().Replace(wanted, "-").Trim('-');
        name = name.Length switch
        {
            < 3 => "user-" + name,
            > 28 => name[..28],
            _ => name,
        };
        for (var suffix = 1; ; suffix++)
        {
            var candidate = suffix == 1 ? name : $"{name}-{suffix}";
            var normalized = candidate.ToUpperInvariant();
            if (!await db.Users.AnyAsync(u => u.NormalizedUserName == normalized, cancellationToken))
            {
                return candidate;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Single sign-on refused subject {Subject} (a user at {Domain}): {Reason}")]
    private partial void LogRefused(string subject, string reason, string domain);

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserName} made at the first single sign-on of subject {Subject} from {Issuer}")]
    private partial void LogCreated(string userName, string subject, string issuer);
}

/// <summary>Why a single sign-on did not end signed in: a code in the page's address, a sentence from the API.</summary>
public static class SsoRefusal
{
    public const string Failed = "failed";
    public const string Denied = "denied";
    public const string Unreachable = "provider_unreachable";
    public const string Domain = "domain";
    public const string Group = "group";
    public const string NoEmail = "no_email";
    public const string EmailTaken = "email_taken";

    public static string? Sentence(string? code, string provider) => code switch
    {
        Failed => $"Signing in with {provider} did not complete: its answer could not be checked (an old or altered sign-in). Try again.",
        Denied => $"Signing in with {provider} was cancelled there.",
        Unreachable => $"{provider} cannot be reached just now; try again in a moment.",
        Domain => "Accounts of your e-mail domain may not use this platform.",
        Group => "Your account is in no group allowed to use this platform; ask your administrator.",
        NoEmail => $"{provider} did not give your e-mail address; its administrator must release the email claim to this platform.",
        EmailTaken => "An account with your e-mail address exists already: sign in with its password.",
        _ => null,
    };
}
