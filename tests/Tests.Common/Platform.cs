using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using WebApi;

namespace Tests.Common;

/// <summary>
/// The platform on loopback, as on one machine: a real redis-server, the operator with its local driver
/// (stand-in editor processes), the gateway checking tickets with the shared key, and the web API on a
/// fresh SQLite file (or the PostgreSQL database given).
/// </summary>
public class Platform : IAsyncLifetime, IWebApiUnderTest
{
    // Every program signs in as its own Redis user, with only the rights config/redis-users.acl grants it:
    // every test on this platform is also a test that those rights are enough.
    private readonly RedisUsers? _users;
    private readonly RedisServer _redis;
    private readonly RedisSentinelGroup? _sentinels;
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("webapi-tests");
    private OperatorHost _operator = null!;
    private WebApplication _webApi = null!;

    public string SigningKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public GatewayHost Gateway { get; private set; } = null!;

    public RedisServer Redis => _redis;

    /// <summary>The Sentinel group when the platform runs on one (<see cref="SentinelPlatform"/>).</summary>
    public RedisSentinelGroup? Sentinels => _sentinels;

    /// <summary>What every program's Redis setting says: the server, or the Sentinels of a group.</summary>
    public string RedisConfiguration => _sentinels?.Configuration ?? _redis.Configuration;

    /// <summary>A platform on a Sentinel-managed Redis (primary, replica, three Sentinels) instead of one server.</summary>
    protected Platform(RedisSentinelGroup sentinels)
    {
        _sentinels = sentinels;
        _redis = new RedisServer();
    }

    public Platform()
    {
        _users = new RedisUsers();
        _redis = new RedisServer(_users);
    }

    public Uri Address { get; private set; } = null!;

    /// <summary>The operator's own API, as an administrator would call it past the web API.</summary>
    public Uri OperatorAddress => _operator.Address;

    /// <summary>Where the local driver keeps each workspace's folder (<c>&lt;sid&gt;/</c>).</summary>
    public string WorkspacesDirectory => Path.Combine(_data.FullName, "workspaces");

    public IServiceProvider Services => _webApi.Services;

    /// <summary>The database context the web API must be using.</summary>
    public virtual Type DatabaseType => typeof(WebApi.Data.SqliteWebApiDb);

    /// <summary>Extra settings for the web API, e.g. a PostgreSQL connection string.</summary>
    public List<string> WebApiOverrides { get; } = [];

    /// <summary>Extra settings for the operator.</summary>
    public List<string> OperatorOverrides { get; } = [];

    /// <summary>Settings a derived platform adds to the gateway's command line.</summary>
    public List<string> GatewayOverrides { get; } = [];

    public virtual async Task InitializeAsync()
    {
        await (_sentinels is null ? _redis.InitializeAsync() : _sentinels.InitializeAsync());
        _operator = await StartOperatorAsync();
        Gateway = await GatewayHost.StartAsync(RedisConfiguration, RepositoryPaths.GatewayConfig, ["--Gateway:Auth:Mode=Ticket", $"--Gateway:Auth:SigningKey={SigningKey}", .. SignIn("Gateway:Redis", RedisUsers.Gateway), .. GatewayOverrides]);
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--ConfigFile={Path.Combine(RepositoryPaths.Root, "config", "webapi.json")}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:Console:FormatterName=simple",
            $"--WebApi:DataDirectory={_data.FullName}",
            $"--WebApi:Database:ConnectionString=Data Source={Path.Combine(_data.FullName, "webapi.db")}",
            $"--WebApi:Operator:Url={_operator.Address}",
            $"--WebApi:Tickets:SigningKey={SigningKey}",
            $"--WebApi:Tickets:GatewayUrl={Gateway.Address}",
            $"--WebApi:CatalogFile={Path.Combine(RepositoryPaths.Root, "config", "catalog.json")}",
            "--WebApi:Accounts:RequireVerifiedEmail=false",
            $"--WebApi:Redis:Configuration={RedisConfiguration}",
            .. SignIn("WebApi:Redis", RedisUsers.WebApi),

            // As behind the gateway (run.sh): the tests' own loopback connections stand in for it.
            "--WebApi:TrustedProxies:0=127.0.0.1",
            .. WebApiOverrides,
        ];
        _webApi = WebApiApplication.Create(args);
        await _webApi.StartAsync();
        Address = new Uri(_webApi.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public virtual async Task DisposeAsync()
    {
        await _webApi.StopAsync();
        await _webApi.DisposeAsync();
        await Gateway.DisposeAsync();
        await _operator.DisposeAsync();
        await (_sentinels is null ? _redis.DisposeAsync() : _sentinels.DisposeAsync());
        _data.Delete(recursive: true);
        _users?.Delete();
    }

    /// <summary>A program's sign-in settings on this platform's Redis (none on the Sentinel group, which has no users).</summary>
    protected string[] SignIn(string section, string user) => _sentinels is null ? _redis.SignIn(section, user) : [];

    /// <summary>The operator with its local driver and stand-in editors, unless a derived platform says otherwise.</summary>
    protected virtual Task<OperatorHost> StartOperatorAsync() =>
        OperatorHost.StartLocalAsync(WorkspacesDirectory, Path.Combine(AppContext.BaseDirectory, "FakeCodeServer"), RedisConfiguration, [.. SignIn("Operator:Redis", RedisUsers.Operator), .. OperatorOverrides]);

    /// <summary>Idle auto-stop on, checked every 200 ms, with <paramref name="idleTimeout"/> instead of an hour.</summary>
    protected void StopIdleWorkspacesAfter(TimeSpan idleTimeout)
    {
        WebApiOverrides.Add("--WebApi:IdleStop:Enabled=true");
        WebApiOverrides.Add($"--WebApi:IdleStop:IdleTimeout={idleTimeout}");
        WebApiOverrides.Add("--WebApi:IdleStop:CheckInterval=00:00:00.200");
    }

    /// <summary>A browser-like client of the web API: keeps its cookies, one per user.</summary>
    public HttpClient NewClient() => new(new SocketsHttpHandler { CookieContainer = new CookieContainer(), UseCookies = true, AllowAutoRedirect = false })
    {
        BaseAddress = Address,
        Timeout = TimeSpan.FromSeconds(90),
    };
}

/// <summary>Workspaces and their ports on their own origins under <see cref="Domain"/> (gateway and web API agree on it).</summary>
public sealed class HostRoutingPlatform : Platform
{
    public const string Domain = "ws.test";

    public override Task InitializeAsync()
    {
        GatewayOverrides.Add($"--Gateway:Routes:WorkspaceDomain={Domain}");
        GatewayOverrides.Add("--Gateway:Auth:LoginUrl=http://platform.test/");
        WebApiOverrides.Add($"--WebApi:Tickets:WorkspaceDomain={Domain}");
        return base.InitializeAsync();
    }
}

/// <summary>Idle workspaces are stopped after two seconds instead of an hour.</summary>
public sealed class QuickIdlePlatform : Platform
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(2);

    public override Task InitializeAsync()
    {
        StopIdleWorkspacesAfter(IdleTimeout);
        return base.InitializeAsync();
    }
}

/// <summary>The platform on a Sentinel-managed Redis, idle workspaces stopped after a few seconds.</summary>
public sealed class SentinelPlatform() : Platform(new RedisSentinelGroup())
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    public override Task InitializeAsync()
    {
        StopIdleWorkspacesAfter(IdleTimeout);
        return base.InitializeAsync();
    }
}

/// <summary>The platform with the web API and the operator exporting telemetry to a collector on loopback.</summary>
public sealed class TelemetryPlatform : Platform
{
    public OtlpCollector Collector { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Collector = await OtlpCollector.StartAsync();
        string[] telemetry = [$"OtlpEndpoint=http://127.0.0.1:{Collector.Port}", "MetricsExportInterval=00:00:00.500"];
        WebApiOverrides.AddRange(telemetry.Select(setting => "--WebApi:Telemetry:" + setting));
        OperatorOverrides.AddRange(telemetry.Select(setting => "--Operator:Telemetry:" + setting));
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Collector.DisposeAsync();
    }
}

/// <summary>The same platform with the web API on a real PostgreSQL server (every rule holds on both databases).</summary>
public sealed class PostgresPlatform : Platform
{
    private PostgresServer? _postgres;

    public override Type DatabaseType => typeof(WebApi.Data.PostgresWebApiDb);

    public override async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        WebApiOverrides.Add("--WebApi:Database:Provider=Postgres");
        WebApiOverrides.Add($"--WebApi:Database:ConnectionString={_postgres.ConnectionString("webapi")}");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}

/// <summary>The operator with its Kubernetes driver against the in-process API server: a test plays the kubelet.</summary>
public sealed class KubernetesPlatform : Platform
{
    public const string Namespace = "workspaces";

    public FakeApiServer Api { get; private set; } = null!;

    protected override async Task<OperatorHost> StartOperatorAsync()
    {
        Api = await FakeApiServer.StartAsync();
        return await OperatorHost.StartKubernetesAsync(Api, Redis, [.. OperatorOverrides]);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Api.DisposeAsync();
    }
}
