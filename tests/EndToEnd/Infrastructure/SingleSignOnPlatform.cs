namespace EndToEnd.Infrastructure;

/// <summary>
/// The platform (gateway, operator with stand-in editors, web API) whose page offers single sign-on through a real
/// OpenID Connect provider on loopback (<see cref="OidcProvider"/>), restricted as an organisation restricts it:
/// addresses of example.test, members of the group developers. Passwords stay on beside it.
/// </summary>
public sealed class SingleSignOnPlatform : Platform
{
    public const string ProviderName = "Test provider";

    private readonly DirectoryInfo _secrets = Directory.CreateTempSubdirectory("sso-client");

    public OidcProvider Provider { get; private set; } = null!;

    /// <summary>The page's address: a fixed port, since the provider must know where to send people back.</summary>
    public Uri Page { get; } = new($"http://127.0.0.1:{FreePort.Next()}/");

    public override async Task InitializeAsync()
    {
        Provider = await OidcProvider.StartAsync();
        await Provider.RegisterClientAsync(new Uri(Page, "/api/accounts/sso/callback"));
        var secretFile = Path.Combine(_secrets.FullName, "client-secret");
        await File.WriteAllTextAsync(secretFile, OidcProvider.ClientSecret + "\n");
        WebApiOverrides.AddRange(
        [
            $"--urls={Page}",
            $"--WebApi:PublicUrl={Page}",
            $"--WebApi:Sso:Authority={Provider.Issuer}",
            $"--WebApi:Sso:ClientId={OidcProvider.ClientId}",
            $"--WebApi:Sso:ClientSecretFile={secretFile}",
            $"--WebApi:Sso:DisplayName={ProviderName}",
            "--WebApi:Sso:RequireHttpsMetadata=false",
            "--WebApi:Sso:Scopes:3=groups",
            "--WebApi:Sso:AllowedEmailDomains:0=example.test",
            "--WebApi:Sso:AllowedGroups:0=developers",
        ]);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Provider.DisposeAsync();
        _secrets.Delete(recursive: true);
    }
}
