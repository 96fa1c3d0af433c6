using System.Diagnostics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Accounts;

public sealed record ForgotPasswordRequest(string? Email);

public sealed record ResetPasswordRequest(string? Token, string? Password);

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

public sealed record ForgotPasswordView(string Detail);

/// <summary>
/// A forgotten password reset by a link mailed to the account's address, and a password changed by its owner.
/// Either way every other session of the account ends (<see cref="User.SessionEpoch"/>).
/// </summary>
public static class PasswordEndpoints
{
    // Whether the address is an account's decides whether a code is written and a mail queued; the answer
    // waits this long from the request's start either way, so its timing does not tell.
    private static readonly TimeSpan ForgotAnswerFloor = TimeSpan.FromMilliseconds(250);

    public static RouteGroupBuilder MapPasswords(this RouteGroupBuilder accounts)
    {
        accounts.MapPost("/password/forgot", Forgot).RequireRateLimiting(AccountMailLimits.PerClient).AddEndpointFilter<LocalSignInRequired>();
        accounts.MapPost("/password/reset", Reset).AddEndpointFilter<LocalSignInRequired>();
        accounts.MapPost("/password", Change).RequireAuthorization().AddEndpointFilter<LocalSignInRequired>();
        return accounts;
    }

    internal static async Task<Results<Accepted<ForgotPasswordView>, ProblemHttpResult>> Forgot(
        ForgotPasswordRequest request, HttpContext context, WebApiDb db, AccountCodes codes, AccountMails mails, IOptions<WebApiOptions> options, TimeProvider time)
    {
        if (options.Value.Mail.Host.Length == 0)
        {
            return Problems.Conflict("mail_off", "This installation sends no mail; ask its administrator to reset your password.");
        }

        var started = Stopwatch.GetTimestamp();
        var normalized = (request.Email ?? "").Trim().ToUpperInvariant();
        var user = normalized.Length is > 0 and <= 254 ? await db.Users.SingleOrDefaultAsync(u => u.NormalizedEmail == normalized, context.RequestAborted) : null;
        if (user is not null)
        {
            // Too soon after the last one: nothing is sent, and nothing is said (the answer is the same).
            var (token, _) = await codes.IssueAsync(db, user, CodePurpose.ResetPassword, context.RequestAborted);
            if (token is not null)
            {
                await mails.PostPasswordResetAsync(db, user, token, context.RequestAborted);
                await db.SaveChangesAsync(context.RequestAborted);
                mails.Wake();
            }
        }

        var left = ForgotAnswerFloor - Stopwatch.GetElapsedTime(started);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, time, context.RequestAborted);
        }

        return TypedResults.Accepted((string?)null, new ForgotPasswordView(
            "If an account has that address, a link to choose a new password is on its way there. It works once, for a short while."));
    }

    internal static async Task<Results<Ok<UserView>, ValidationProblem, ProblemHttpResult>> Reset(
        ResetPasswordRequest request, HttpContext context, WebApiDb db, AccountCodes codes, IPasswordHasher<User> hasher, PasswordRules passwords,
        IOptions<WebApiOptions> options, TimeProvider time)
    {
        var userId = AccountCodes.AccountOfResetToken(request.Token);
        var user = userId is { } id ? await db.Users.FindAsync([id], context.RequestAborted) : null;
        if (user is null)
        {
            return LinkNotLive();
        }

        // The password is judged before the link is spent: a refused password leaves the link usable.
        if (passwords.Refusal(request.Password, user.UserName) is { } refusal)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["password"] = [refusal] }, title: "The new password is refused");
        }

        if (await codes.CheckAsync(db, user.Id, CodePurpose.ResetPassword, request.Token!, context.RequestAborted) != CodeCheck.Accepted)
        {
            return LinkNotLive();
        }

        SetPassword(user, request.Password!, hasher);

        // The link came to the account's mailbox: whoever opened it controls the address.
        user.EmailVerifiedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(context.RequestAborted);
        await AccountSessions.SignInAsync(context, user);
        return TypedResults.Ok(AccountEndpoints.View(user, options.Value));
    }

    internal static async Task<Results<Ok<UserView>, ValidationProblem, ProblemHttpResult>> Change(
        ChangePasswordRequest request, ClaimsPrincipal principal, HttpContext context, WebApiDb db, IPasswordHasher<User> hasher, PasswordRules passwords,
        LoginThrottle throttle, IOptions<WebApiOptions> options)
    {
        var user = await db.Users.FindAsync([principal.UserId()], context.RequestAborted);
        if (user is null)
        {
            return AccountEndpoints.UnknownUser();
        }

        // A stolen session must not try passwords faster than the log-in form allows.
        if (!throttle.TryAttempt(context.Connection.RemoteIpAddress?.ToString(), user.UserName))
        {
            context.Response.Headers.RetryAfter = "60";
            return Problems.Of(StatusCodes.Status429TooManyRequests, "too_many_attempts", "Too many attempts; wait a minute and try again.");
        }

        if (request.CurrentPassword is null || hasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword) == PasswordVerificationResult.Failed)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "wrong_password", "The current password is wrong.");
        }

        if (passwords.Refusal(request.NewPassword, user.UserName) is { } refusal)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["newPassword"] = [refusal] }, title: "The new password is refused");
        }

        SetPassword(user, request.NewPassword!, hasher);
        await db.SaveChangesAsync(context.RequestAborted);

        // This session goes on with the new epoch; every other one ends at its next request.
        await AccountSessions.SignInAsync(context, user);
        return TypedResults.Ok(AccountEndpoints.View(user, options.Value));
    }

    private static void SetPassword(User user, string password, IPasswordHasher<User> hasher)
    {
        user.PasswordHash = hasher.HashPassword(user, password);
        user.SessionEpoch++;
    }

    private static ProblemHttpResult LinkNotLive() =>
        Problems.Of(StatusCodes.Status400BadRequest, "reset_link_not_live", "This link can no longer be used (it expired, was used, or was replaced by a newer one): ask for a new one.");
}
