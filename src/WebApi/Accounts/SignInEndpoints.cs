using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WebApi.Configuration;

namespace WebApi.Accounts;

/// <summary>How people may sign in here (for the page), and the way into the OpenID Connect provider.</summary>
/// <param name="Local">Registration and sign-in with a password.</param>
/// <param name="Sso">The provider's name for the "Sign in with …" button; null without single sign-on.</param>
/// <param name="Error">The sentence for a single sign-on that came back refused (its code in <c>?error=</c>).</param>
public sealed record SignInOptionsView(bool Local, string? Sso, string? Error);

public static partial class SignInEndpoints
{
    public static RouteGroupBuilder MapSignIn(this RouteGroupBuilder accounts)
    {
        accounts.MapGet("/sign-in", Options);
        accounts.MapGet("/sso", Start);
        return accounts;
    }

    internal static Ok<SignInOptionsView> Options(string? error, IOptions<WebApiOptions> options)
    {
        var sso = options.Value.Sso;
        return TypedResults.Ok(new SignInOptionsView(
            options.Value.Accounts.LocalSignIn,
            sso.Enabled ? sso.DisplayName : null,
            sso.Enabled ? SsoRefusal.Sentence(error, sso.DisplayName) : null));
    }

    /// <summary>
    /// Off to the provider (authorization code with PKCE, state and nonce: the OpenID Connect handler's), back to
    /// the page, and on to <paramref name="returnTo"/> when it is an address of the page (the gateway's log-in
    /// redirect). A provider that cannot be reached is said on the page, not answered with a 500.
    /// </summary>
    internal static async Task Start(string? returnTo, HttpContext context, IOptions<WebApiOptions> options, ILogger<SingleSignOn> logger)
    {
        if (!options.Value.Sso.Enabled)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var back = IsPageAddress(returnTo) ? "/?returnTo=" + Uri.EscapeDataString(returnTo!) : "/";
        try
        {
            await context.ChallengeAsync(SingleSignOn.Scheme, new AuthenticationProperties { RedirectUri = back });
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException)
        {
            // The handler reads the provider's discovery document at the first challenge: IDX20803 when it is down.
            LogUnreachable(logger, options.Value.Sso.Authority, ex.Message);
            context.Response.Redirect("/?sso_error=" + SsoRefusal.Unreachable);
        }
    }

    // Only a path on this origin: anything else would make the sign-in an open redirect.
    private static bool IsPageAddress(string? returnTo) =>
        returnTo is { Length: > 0 and < 2048 } && returnTo[0] == '/' && !returnTo.StartsWith("//", StringComparison.Ordinal) && !returnTo.StartsWith("/\\", StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Single sign-on: the provider {Authority} cannot be reached ({Reason})")]
    private static partial void LogUnreachable(ILogger logger, string authority, string reason);
}
