using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using WebApi.Data;

namespace WebApi.Accounts;

/// <summary>
/// The session cookie's claims, and their check against the account on every request: a cookie is only as good
/// as the account's current <see cref="User.SessionEpoch"/> (a password change ends every other session at its
/// next request, on every replica, rather than when the cookie expires), and whether the address is verified
/// is the account's, not what it was when the cookie was issued.
/// </summary>
public static class AccountSessions
{
    public const string EpochClaim = "session_epoch";
    public const string EmailVerifiedClaim = "email_verified";

    public static Task SignInAsync(HttpContext context, User user) =>
        context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, PrincipalOf(user));

    /// <summary>The session's principal for the account, as the cookie carries it.</summary>
    public static ClaimsPrincipal PrincipalOf(User user) => Principal(user.Id, user.UserName, user.SessionEpoch, user.EmailVerifiedAt is not null);

    public static bool HasVerifiedEmail(this ClaimsPrincipal user) => user.HasClaim(EmailVerifiedClaim, "true");

    /// <summary>The cookie handler's <c>OnValidatePrincipal</c>: one indexed read of the account per request.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        if (context.Principal is not { } principal || !long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), CultureInfo.InvariantCulture, out var id))
        {
            context.RejectPrincipal();
            return;
        }

        var db = context.HttpContext.RequestServices.GetRequiredService<WebApiDb>();
        var account = await db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new { u.UserName, u.SessionEpoch, Verified = u.EmailVerifiedAt != null })
            .SingleOrDefaultAsync(context.HttpContext.RequestAborted);

        // Cookies issued before sessions had an epoch carry none: they are of epoch 0, as every account was.
        _ = int.TryParse(principal.FindFirstValue(EpochClaim), CultureInfo.InvariantCulture, out var epoch);
        if (account is null || account.SessionEpoch != epoch)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return;
        }

        if (account.Verified != principal.HasVerifiedEmail())
        {
            context.ReplacePrincipal(Principal(id, account.UserName, epoch, account.Verified));
            context.ShouldRenew = true;
        }
    }

    private static ClaimsPrincipal Principal(long id, string userName, int epoch, bool verified) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, id.ToString(CultureInfo.InvariantCulture)),
                new Claim(ClaimTypes.Name, userName),
                new Claim(EpochClaim, epoch.ToString(CultureInfo.InvariantCulture)),
                new Claim(EmailVerifiedClaim, verified ? "true" : "false"),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme));
}
