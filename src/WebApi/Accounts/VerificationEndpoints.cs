using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Accounts;

public sealed record VerifyEmailRequest(string? Code);

public sealed record MailPostedView(string SentTo);

/// <summary>Proving an address: the code mailed at registration, and another one on request.</summary>
public static class VerificationEndpoints
{
    public static RouteGroupBuilder MapVerification(this RouteGroupBuilder accounts)
    {
        accounts.MapPost("/verification", Verify).RequireAuthorization();
        accounts.MapPost("/verification/resend", Resend).RequireAuthorization().RequireRateLimiting(AccountMailLimits.PerClient);
        return accounts;
    }

    internal static async Task<Results<Ok<UserView>, ProblemHttpResult>> Verify(
        VerifyEmailRequest request, ClaimsPrincipal principal, HttpContext context, WebApiDb db, AccountCodes codes, IOptions<WebApiOptions> options, TimeProvider time)
    {
        var user = await db.Users.FindAsync([principal.UserId()], context.RequestAborted);
        if (user is null)
        {
            return AccountEndpoints.UnknownUser();
        }

        if (user.EmailVerifiedAt is not null)
        {
            return TypedResults.Ok(AccountEndpoints.View(user, options.Value));
        }

        // People copy "123 456" or a code with a space after it; anything but six digits cannot be it.
        var code = new string((request.Code ?? "").Where(c => !char.IsWhiteSpace(c)).ToArray());
        if (code.Length != 6 || !code.All(char.IsAsciiDigit))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "wrong_code", "The code is the six digits in the mail we sent you.");
        }

        switch (await codes.CheckAsync(db, user.Id, CodePurpose.VerifyEmail, code, context.RequestAborted))
        {
            case CodeCheck.Wrong:
                return Problems.Of(StatusCodes.Status400BadRequest, "wrong_code", "That is not the code we sent. Check the latest mail, or send a new code.");
            case CodeCheck.NotLive:
                return Problems.Of(StatusCodes.Status400BadRequest, "code_not_live", $"This code can no longer be used (it expired, was used, or was mistyped {AccountCodes.MaxFailedAttempts} times): send a new one.");
        }

        user.EmailVerifiedAt = time.GetUtcNow();
        await db.SaveChangesAsync(context.RequestAborted);
        await AccountSessions.SignInAsync(context, user);
        return TypedResults.Ok(AccountEndpoints.View(user, options.Value));
    }

    internal static async Task<Results<Accepted<MailPostedView>, ProblemHttpResult>> Resend(
        ClaimsPrincipal principal, HttpContext context, WebApiDb db, AccountCodes codes, AccountMails mails, IOptions<WebApiOptions> options)
    {
        var user = await db.Users.FindAsync([principal.UserId()], context.RequestAborted);
        if (user is null)
        {
            return AccountEndpoints.UnknownUser();
        }

        if (user.EmailVerifiedAt is not null)
        {
            return Problems.Conflict("already_verified", "Your address is verified already.");
        }

        if (options.Value.Mail.Host.Length == 0)
        {
            return Problems.Conflict("mail_off", "This installation sends no mail; ask its administrator.");
        }

        var (code, retryAfter) = await codes.IssueAsync(db, user, CodePurpose.VerifyEmail, context.RequestAborted);
        if (code is null)
        {
            return TooSoon(context, retryAfter, "A code was sent a moment ago");
        }

        await mails.PostVerificationCodeAsync(db, user, code, context.RequestAborted);
        await db.SaveChangesAsync(context.RequestAborted);
        mails.Wake();
        return TypedResults.Accepted("/api/accounts/me", new MailPostedView(user.Email));
    }

    internal static ProblemHttpResult TooSoon(HttpContext context, TimeSpan retryAfter, string what)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var wait = seconds < 120 ? $"{seconds} seconds" : $"{(seconds + 59) / 60} minutes";
        return Problems.Of(StatusCodes.Status429TooManyRequests, "too_soon", $"{what}; you may ask for another in {wait}.");
    }
}
