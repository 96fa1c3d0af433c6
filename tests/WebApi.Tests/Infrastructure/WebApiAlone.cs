using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;

namespace WebApi.Tests.Infrastructure;

/// <summary>
/// What the web API's own endpoints need to be tested against, and no more: the web API alone, on a fresh
/// SQLite file (or the PostgreSQL database given), hosted by <see cref="WebApplicationFactory{TEntryPoint}"/>
/// (the entry point is found through any type of the web API's assembly; its options class will do) on real
/// Kestrel sockets (the trusted-proxy rules look at the connection's address). No operator, gateway
/// or Redis: accounts, throttling and the catalog never reach them; the workspace rules run on
/// <see cref="Platform"/>, where they do.
/// </summary>
public class WebApiAlone : WebApplicationFactory<WebApi.Configuration.WebApiOptions>, IAsyncLifetime, IWebApiUnderTest
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("webapi-alone");

    public new IServiceProvider Services => base.Services;

    /// <summary>Settings on top of config/webapi.json, e.g. a PostgreSQL connection string.</summary>
    protected Dictionary<string, string?> Settings { get; } = [];

    /// <summary>A setting on top of the fixture's own, before it starts.</summary>
    public WebApiAlone With(string key, string? value)
    {
        Settings[key] = value;
        return this;
    }

    public virtual Task InitializeAsync()
    {
        UseKestrel(0);
        StartServer();
        return Task.CompletedTask;
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }

        _data.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>The PostgreSQL server of a fixture that asked for one (<see cref="UsePostgresAsync"/>).</summary>
    protected PostgresServer? Postgres { get; private set; }

    /// <summary>Puts the web API on a real PostgreSQL server of its own, before it starts; stopped with the fixture.</summary>
    protected async Task UsePostgresAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        Settings["WebApi:Database:Provider"] = "Postgres";
        Settings["WebApi:Database:ConnectionString"] = Postgres.ConnectionString("webapi");
    }

    public HttpClient NewClient() => CreateClient(new WebApplicationFactoryClientOptions
    {
        BaseAddress = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
        AllowAutoRedirect = false,
        HandleCookies = true,
    });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("WebApi:DataDirectory", _data.FullName);
        builder.UseSetting("WebApi:Database:ConnectionString", $"Data Source={Path.Combine(_data.FullName, "webapi.db")}");
        builder.UseSetting("WebApi:Tickets:SigningKey", Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        builder.UseSetting("WebApi:CatalogFile", Path.Combine(RepositoryPaths.Root, "config", "catalog.json"));
        builder.UseSetting("WebApi:IdleStop:Enabled", "false");

        // A closed installation unless a test sets up mail (WebApiWithMail): most tests are not about addresses.
        builder.UseSetting("WebApi:Accounts:RequireVerifiedEmail", "false");

        // As behind the gateway: the tests' own loopback connections stand in for it. Named as a network, as
        // in Kubernetes (the gateways' pod network); the platform's tests name the one address.
        builder.UseSetting("WebApi:TrustedProxies:0", "127.0.0.0/8");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>The web API alone on a real PostgreSQL server.</summary>
public sealed class PostgresWebApiAlone : WebApiAlone
{
    public PostgresServer Database => Postgres ?? throw new InvalidOperationException("not started");

    public override async Task InitializeAsync()
    {
        await UsePostgresAsync();
        await base.InitializeAsync();
    }
}
