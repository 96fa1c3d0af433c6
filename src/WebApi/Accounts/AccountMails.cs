using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;
using WebApi.Mail;

namespace WebApi.Accounts;

/// <summary>The words of the mails an account is sent, posted to the outbox with what they carry.</summary>
public sealed class AccountMails(MailOutbox outbox, IOptions<WebApiOptions> options, TimeProvider time)
{
    private readonly WebApiOptions _options = options.Value;

    public Task PostVerificationCodeAsync(WebApiDb db, User user, string code, CancellationToken cancellationToken)
    {
        var lifetime = _options.Accounts.VerificationCodeLifetime;
        return outbox.PostAsync(db, user.Email, $"Your Cloud IDE code: {code}", $"""
            Hello {user.UserName},

            the code that verifies this address for your Cloud IDE account is

                {code}

            Enter it on the page where you signed in ({_options.PublicUrl}). It works once, for {Minutes(lifetime)}.

            If you did not make an account there, ignore this mail: without the code nothing happens.
            """, time.GetUtcNow() + lifetime, ReplaceKey(CodePurpose.VerifyEmail, user), cancellationToken);
    }

    public Task PostPasswordResetAsync(WebApiDb db, User user, string token, CancellationToken cancellationToken)
    {
        var lifetime = _options.Accounts.PasswordResetLifetime;

        // In the fragment: a browser sends it to no server, in no Referer and no access log.
        var link = $"{_options.PublicUrl.TrimEnd('/')}/#reset={token}";
        return outbox.PostAsync(db, user.Email, "Reset your Cloud IDE password", $"""
            Hello {user.UserName},

            someone, we hope you, asked to reset the password of your Cloud IDE account. To choose a new one,
            open this link within {Minutes(lifetime)}; it works once:

                {link}

            If it was not you, ignore this mail: your password stays as it is.
            """, time.GetUtcNow() + lifetime, ReplaceKey(CodePurpose.ResetPassword, user), cancellationToken);
    }

    public void Wake() => outbox.Wake();

    // A new code voids the one before: its mail, if still unsent, would only mislead.
    private static string ReplaceKey(CodePurpose purpose, User user) =>
        $"{purpose}:{user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    private static string Minutes(TimeSpan lifetime) =>
        lifetime.TotalMinutes < 120 ? $"{lifetime.TotalMinutes:0} minutes" : $"{lifetime.TotalHours:0} hours";
}
