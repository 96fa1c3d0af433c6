using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tests.Common;

/// <summary>A person the test provider knows: what its ID tokens say about them.</summary>
public sealed record ProviderPerson(string Subject, string Email, string? PreferredUserName = null, bool? EmailVerified = true, params string[] Groups);

/// <summary>
/// A real OpenID Connect provider on a free loopback port, built on OpenIddict 7.9.0 (authorization code flow with
/// PKCE required, signed ID tokens, discovery and keys documents): its sign-in page lists no one, a person types the
/// account name of one of <see cref="People"/> and presses "Sign in" (or "Cancel"). A test may make it issue ID
/// tokens for another audience, as a token stolen from another application would be.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string ClientId = "cloud-ide";
    public const string ClientSecret = "test provider client secret";

    private readonly WebApplication _app;
    private readonly DirectoryInfo _data;

    private OidcProvider(WebApplication app, DirectoryInfo data, int port)
    {
        _app = app;
        _data = data;
        Issuer = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri Issuer { get; }

    public ConcurrentDictionary<string, ProviderPerson> People { get; } = new();

    /// <summary>When set, the audience of every ID token issued from now on (instead of the client's id).</summary>
    public string? IdTokenAudience { get; set; }

    /// <summary>Starts the provider; the client is registered with <paramref name="redirectUri"/> once known (<see cref="RegisterClientAsync"/>).</summary>
    public static async Task<OidcProvider> StartAsync()
    {
        var port = FreePort.Next();
        var data = Directory.CreateTempSubdirectory("oidc-provider");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddDbContext<ProviderDb>(db =>
        {
            db.UseSqlite($"Data Source={Path.Combine(data.FullName, "provider.db")}");
            db.UseOpenIddict();
        });
        OidcProvider? self = null;
        builder.Services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<ProviderDb>())
            .AddServer(server =>
            {
                server.SetIssuer(new Uri($"http://127.0.0.1:{port}/"));
                server.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
                server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, "groups");
                server.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                server.DisableAccessTokenEncryption();
                server.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
                server.AddEventHandler<OpenIddictServerEvents.ProcessSignInContext>(handler => handler
                    .UseInlineHandler(context =>
                    {
                        if (self?.IdTokenAudience is { } audience && context.IdentityTokenPrincipal is { } principal)
                        {
                            principal.SetAudiences(audience);
                        }

                        return default;
                    })
                    .SetOrder(OpenIddictServerHandlers.PrepareIdentityTokenPrincipal.Descriptor.Order + 1)
                    .SetType(OpenIddictServerHandlerType.Custom));
            });

        var app = builder.Build();
        var provider = new OidcProvider(app, data, port);
        self = provider;
        app.MapMethods("/connect/authorize", ["GET", "POST"], (Delegate)provider.AuthorizeAsync);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ProviderDb>().Database.EnsureCreatedAsync();
        }

        await app.StartAsync();
        return provider;
    }

    /// <summary>Registers the platform as a confidential client whose answers go to <paramref name="redirectUri"/>.</summary>
    public async Task RegisterClientAsync(Uri redirectUri)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = ClientId,
            ClientSecret = ClientSecret,
            ClientType = ClientTypes.Confidential,
            RedirectUris = { redirectUri },
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Email,
                Permissions.Scopes.Profile,
                Permissions.Prefixes.Scope + "groups",
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Delete(recursive: true);
    }

    // The sign-in page: GET shows it, POST signs the named person in (or cancels).
    private async Task<IResult> AuthorizeAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("not an authorization request");
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            return Page(request, error: null);
        }

        var form = await context.Request.ReadFormAsync();
        if (form.ContainsKey("cancel"))
        {
            return Results.Forbid(
                new AuthenticationProperties(new Dictionary<string, string?> { [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.AccessDenied }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        if (!People.TryGetValue(form["account"].ToString(), out var person))
        {
            return Page(request, error: "No such account here.");
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, person.Subject)
            .SetClaim(Claims.Email, person.Email)
            .SetClaim(Claims.PreferredUsername, person.PreferredUserName);
        if (person.EmailVerified is { } verified)
        {
            identity.SetClaim(Claims.EmailVerified, verified);
        }

        identity.SetClaims("groups", [.. person.Groups]);
        identity.SetScopes(request.GetScopes());
        identity.SetDestinations(_ => [Destinations.IdentityToken, Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static IResult Page(OpenIddictRequest request, string? error)
    {
        var hidden = string.Concat(request.GetParameters().Select(p =>
            $"<input type=\"hidden\" name=\"{HtmlEncoder.Default.Encode(p.Key)}\" value=\"{HtmlEncoder.Default.Encode(p.Value.ToString() ?? "")}\">"));
        var said = error is null ? "" : $"<p role=\"alert\">{HtmlEncoder.Default.Encode(error)}</p>";
        return Results.Content(
            $"""
            <!doctype html><html lang="en"><head><title>Test provider: sign in</title></head><body>
            <h1>Test provider</h1>{said}
            <form method="post" action="/connect/authorize">{hidden}
            <label>Account <input name="account"></label>
            <button type="submit" name="sign-in">Sign in</button> <button type="submit" name="cancel">Cancel</button>
            </form></body></html>
            """,
            "text/html; charset=utf-8");
    }

    private sealed class ProviderDb(DbContextOptions<ProviderDb> options) : DbContext(options);
}
