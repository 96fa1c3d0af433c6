using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServiceDefaults.Secrets;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Accounts;

public static partial class SingleSignOnServiceCollectionExtensions
{
    /// <summary>
    /// The OpenID Connect handler (authorization code with PKCE) beside the session cookie: the provider's answer is
    /// checked by the handler (state, nonce, the ID token's signature, issuer, audience and lifetime), the person
    /// becomes an account by <see cref="SingleSignOn"/>, and the session is this platform's own cookie, so
    /// tickets into the gateway work as for any other session.
    /// </summary>
    public static AuthenticationBuilder AddSingleSignOn(this AuthenticationBuilder authentication, SsoOptions sso, string publicUrl)
    {
        authentication.Services.AddSingleton<SingleSignOn>();
        if (!sso.Enabled)
        {
            return authentication;
        }

        return authentication.AddOpenIdConnect(SingleSignOn.Scheme, oidc =>
        {
            oidc.Authority = sso.Authority;
            oidc.RequireHttpsMetadata = sso.RequireHttpsMetadata;
            oidc.ClientId = sso.ClientId;
            oidc.ClientSecret = sso.ClientSecretFile.Length > 0 ? SecretFiles.ReadPassword(sso.ClientSecretFile) : null;
            oidc.ResponseType = OpenIdConnectResponseType.Code;
            oidc.UsePkce = true;
            oidc.Scope.Clear();
            foreach (var scope in sso.Scopes)
            {
                oidc.Scope.Add(scope);
            }

            oidc.CallbackPath = "/api/accounts/sso/callback";
            oidc.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            oidc.MapInboundClaims = false;
            oidc.GetClaimsFromUserInfoEndpoint = true;

            // The answer comes back as a top-level GET (not the handler's default form_post, a cross-site POST):
            // then the state and nonce cookies can be SameSite=Lax, and are not Secure-only on a plain-HTTP
            // installation (one machine), where a browser would drop them and every sign-in fail.
            oidc.ResponseMode = OpenIdConnectResponseMode.Query;
            oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
            oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.NonceCookie.SameSite = SameSiteMode.Lax;
            oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;

            // The provider sends the browser back to the page's public address, not to one made of this request's
            // Host: behind the gateway that is the gateway's, and a Host a client sends is not to be believed.
            var callback = publicUrl.TrimEnd('/') + oidc.CallbackPath;
            oidc.Events.OnRedirectToIdentityProvider = context =>
            {
                context.ProtocolMessage.RedirectUri = callback;
                return Task.CompletedTask;
            };
            oidc.Events.OnTokenValidated = AdmitAsync;
            oidc.Events.OnAccessDenied = context => BackToPage(context, SsoRefusal.Denied);
            oidc.Events.OnRemoteFailure = context =>
            {
                var logger = context.HttpContext.RequestServices.GetRequiredService<ILogger<SingleSignOn>>();
                LogFailed(logger, context.Failure?.Message ?? "no reason given");
                return BackToPage(context, SsoRefusal.Failed);
            };
        });
    }

    private static async Task AdmitAsync(TokenValidatedContext context)
    {
        var services = context.HttpContext.RequestServices;
        var issuer = context.SecurityToken?.Issuer ?? context.Options.Authority!;
        var (user, refusal) = await services.GetRequiredService<SingleSignOn>()
            .AccountForAsync(services.GetRequiredService<WebApiDb>(), context.Principal!, issuer, context.HttpContext.RequestAborted);
        if (user is null)
        {
            context.HandleResponse();
            context.Response.Redirect("/?sso_error=" + refusal);
            return;
        }

        context.Principal = AccountSessions.PrincipalOf(user);
    }

    private static Task BackToPage<TOptions>(HandleRequestContext<TOptions> context, string refusal)
        where TOptions : AuthenticationSchemeOptions
    {
        context.HandleResponse();
        context.Response.Redirect("/?sso_error=" + refusal);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Single sign-on did not complete: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
