using System.Net.Http.Json;
using System.Text.Json;
using Contracts.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Operator;
using Operator.Api;

namespace Tests.Common;

/// <summary>
/// The real operator application on a loopback socket, configured from config/operator.json with
/// overrides passed as an operator would (<c>--Operator:...=...</c>), polling fast so tests are quick.
/// </summary>
public sealed class OperatorHost : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly WebApplication _app;

    private OperatorHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Against the fake API server (Kubernetes driver).</summary>
    public static Task<OperatorHost> StartKubernetesAsync(FakeApiServer api, RedisServer redis, params string[] overrides) =>
        StartAsync(
        [
            "--Operator:Driver=Kubernetes",
            $"--Operator:Kubernetes:Server={api.Address}",
            $"--Operator:Kubernetes:Token={api.Token}",
            "--Operator:Kubernetes:LeaderElection:LeaseNamespace=operator-system",
            "--Operator:Kubernetes:LeaderElection:LeaseDuration=00:00:02",
            "--Operator:Kubernetes:LeaderElection:RenewInterval=00:00:00.500",
            $"--Operator:Redis:Configuration={redis.Configuration}",
            .. redis.SignIn("Operator:Redis", RedisUsers.Operator),
            .. overrides,
        ]);

    /// <summary>On this machine (local driver), with <paramref name="codeServer"/> as the editor.</summary>
    public static Task<OperatorHost> StartLocalAsync(string dataDirectory, string codeServer, RedisServer redis, params string[] overrides) =>
        StartLocalAsync(dataDirectory, codeServer, redis.Configuration, [.. redis.SignIn("Operator:Redis", RedisUsers.Operator), .. overrides]);

    /// <summary>The same, on the Redis (or Sentinels) <paramref name="redisConfiguration"/> names.</summary>
    public static Task<OperatorHost> StartLocalAsync(string dataDirectory, string codeServer, string redisConfiguration, params string[] overrides) =>
        StartAsync(
        [
            "--Operator:Driver=Local",
            $"--Operator:Local:DataDirectory={dataDirectory}",
            $"--Operator:Local:CodeServer={codeServer}",
            "--Operator:Local:StopTimeout=00:00:05",

            // Editors as the tests' own user (the tests run as root on CI, where Auto would give each its own):
            // the isolation has tests of its own, on a data folder other users can pass through.
            "--Operator:Local:Isolation=None",
            $"--Operator:Redis:Configuration={redisConfiguration}",
            .. overrides,
        ]);

    private static async Task<OperatorHost> StartAsync(string[] overrides)
    {
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--ConfigFile={Path.Combine(RepositoryPaths.Root, "config", "operator.json")}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:Console:FormatterName=simple",
            "--Operator:Reconcile:PollInterval=00:00:00.100",
            "--Operator:Reconcile:InitialBackoff=00:00:00.050",
            "--Operator:Reconcile:MaxBackoff=00:00:01",
            .. overrides,
        ];
        var app = OperatorApplication.Create(args);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new OperatorHost(app, address);
    }

    public Task<HttpResponseMessage> CreateAsync(string sid, bool start = true, int wait = 30, string image = "codercom/code-server:4.139.1", string? mountPath = null) =>
        Client.PostAsJsonAsync($"/api/workspaces?wait={wait}", new CreateWorkspaceRequest(sid, image, "2", "4Gi", "10Gi", "2C4G10G", null, mountPath, "alice", start));

    public Task<HttpResponseMessage> StartWorkspaceAsync(string sid, int wait = 30) => Client.PostAsync($"/api/workspaces/{sid}/start?wait={wait}", null);

    public Task<HttpResponseMessage> StopWorkspaceAsync(string sid, int wait = 30) => Client.PostAsync($"/api/workspaces/{sid}/stop?wait={wait}", null);

    public Task<HttpResponseMessage> DeleteWorkspaceAsync(string sid, int wait = 30) => Client.DeleteAsync($"/api/workspaces/{sid}?wait={wait}");

    public static async Task<WorkspaceInfo> InfoAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<WorkspaceInfo>(Json))!;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await _app.StopAsync(stop.Token);
        }

        await _app.DisposeAsync();
    }
}
