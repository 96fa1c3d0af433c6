using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Accounts;

public sealed record RegisterRequest(string? UserName, string? Email, string? Password);

public sealed record LoginRequest(string? UserName, string? Password);

/// <summary>
/// An account as the page sees it. <c>VerificationRequired</c>: the installation wants addresses verified
/// before workspaces are created or started; the page then asks for the code while <c>EmailVerified</c> is false.
/// </summary>
public sealed record UserView(long Id, string UserName, string Email, bool EmailVerified, bool VerificationRequired);

public static partial class AccountEndpoints
{
    [GeneratedRegex("^[A-Za-z0-9_-]{3,32}$")]
    private static partial Regex UserNamePattern();

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/accounts").WithTags("Accounts");
        api.MapPost("/register", Register).RequireRateLimiting(AccountMailLimits.PerClient).AddEndpointFilter<LocalSignInRequired>();
        api.MapPost("/login", Login).AddEndpointFilter<LocalSignInRequired>();
        api.MapPost("/logout", (Delegate)Logout);
        api.MapGet("/me", Me).RequireAuthorization();
        api.MapVerification();
        api.MapPasswords();
        api.MapSignIn();
        return app;
    }

    public static long UserId(this ClaimsPrincipal user) => long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!, System.Globalization.CultureInfo.InvariantCulture);

    internal static async Task<Results<Created<UserView>, ValidationProblem, ProblemHttpResult>> Register(
        RegisterRequest request, HttpContext context, WebApiDb db, IPasswordHasher<User> hasher, PasswordRules passwords,
        AccountCodes codes, AccountMails mails, IOptions<WebApiOptions> options, TimeProvider time, ILogger<User> logger)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.UserName is null || !UserNamePattern().IsMatch(request.UserName))
        {
            errors["userName"] = ["3 to 32 letters, digits, '_' or '-'"];
        }

        if (request.Email is null || request.Email.Length > 254 || !request.Email.Contains('@', StringComparison.Ordinal) || request.Email.Any(char.IsWhiteSpace))
        {
            errors["email"] = ["an e-mail address"];
        }

        if (passwords.Refusal(request.Password, request.UserName) is { } refusal)
        {
            errors["password"] = [refusal];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Registration details are invalid");
        }

        var user = new User
        {
            UserName = request.UserName!,
            NormalizedUserName = request.UserName!.ToUpperInvariant(),
            Email = request.Email!,
            NormalizedEmail = request.Email!.ToUpperInvariant(),
            PasswordHash = "",
            CreatedAt = time.GetUtcNow(),
        };
        user.PasswordHash = hasher.HashPassword(user, request.Password!);
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateException ex) when (ConstraintViolation.Of(ex) is Violation.UserNameTaken or Violation.EmailTaken)
        {
            var field = ConstraintViolation.Of(ex) == Violation.UserNameTaken ? "user name" : "e-mail address";
            return Problems.Conflict("account_exists", $"That {field} is already registered.");
        }

        if (options.Value.Accounts.RequireVerifiedEmail)
        {
            // Saved apart from the account: were this to fail, the account exists, its owner is signed in, and the
            // page offers to send a code.
            try
            {
                var (code, _) = await codes.IssueAsync(db, user, CodePurpose.VerifyEmail, context.RequestAborted);
                await mails.PostVerificationCodeAsync(db, user, code!, context.RequestAborted);
                await db.SaveChangesAsync(context.RequestAborted);
                mails.Wake();
            }
            catch (DbUpdateException ex)
            {
                LogCodeNotIssued(logger, user.UserName, ex.Message);
            }
        }

        await AccountSessions.SignInAsync(context, user);
        return TypedResults.Created("/api/accounts/me", View(user, options.Value));
    }

    internal static async Task<Results<Ok<UserView>, ProblemHttpResult>> Login(
        LoginRequest request, HttpContext context, WebApiDb db, IPasswordHasher<User> hasher, LoginThrottle throttle, IOptions<WebApiOptions> options)
    {
        var name = request.UserName ?? "";
        if (!throttle.TryAttempt(context.Connection.RemoteIpAddress?.ToString(), name))
        {
            context.Response.Headers.RetryAfter = "60";
            return Problems.Of(StatusCodes.Status429TooManyRequests, "too_many_attempts", "Too many log-in attempts; wait a minute and try again.");
        }

        var normalized = name.ToUpperInvariant();
        var user = await db.Users.SingleOrDefaultAsync(u => u.NormalizedUserName == normalized);
        var result = user is null || request.Password is null
            ? PasswordVerificationResult.Failed
            : hasher.VerifyHashedPassword(user, user.PasswordHash, request.Password);
        if (result == PasswordVerificationResult.Failed)
        {
            // One answer for an unknown name and a wrong password: names are not probed this way.
            return Problems.Of(StatusCodes.Status401Unauthorized, "invalid_credentials", "User name or password is wrong.");
        }

        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user!.PasswordHash = hasher.HashPassword(user, request.Password!);
            await db.SaveChangesAsync();
        }

        await AccountSessions.SignInAsync(context, user!);
        return TypedResults.Ok(View(user!, options.Value));
    }

    internal static async Task<NoContent> Logout(HttpContext context)
    {
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return TypedResults.NoContent();
    }

    internal static async Task<Results<Ok<UserView>, ProblemHttpResult>> Me(ClaimsPrincipal principal, WebApiDb db, IOptions<WebApiOptions> options)
    {
        var user = await db.Users.FindAsync(principal.UserId());
        return user is null
            ? UnknownUser()
            : TypedResults.Ok(View(user, options.Value));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Account {UserName} was made, but its verification code was not issued ({Reason}); it may ask for one")]
    private static partial void LogCodeNotIssued(ILogger logger, string userName, string reason);

    /// <summary>A session whose account was deleted while the request was on its way.</summary>
    internal static ProblemHttpResult UnknownUser() =>
        Problems.Of(StatusCodes.Status401Unauthorized, "unknown_user", "This session belongs to an account that no longer exists.");

    internal static UserView View(User user, WebApiOptions options) =>
        new(user.Id, user.UserName, user.Email, user.EmailVerifiedAt is not null, options.Accounts.RequireVerifiedEmail);
}
