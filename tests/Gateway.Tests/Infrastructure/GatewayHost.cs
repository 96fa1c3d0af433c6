using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The real gateway application on a real loopback socket, configured from config/gateway.json with
/// test overrides passed the way an operator would (<c>--Gateway:...=...</c>).
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Client = CreateClient();
    }

    public Uri Address { get; }

    /// <summary>No redirects followed, no cookies kept: what the gateway answered, as it answered it.</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayHost> StartAsync(RedisServer redis, params string[] overrides) =>
        await StartAsync(redis.Configuration, RepositoryPaths.GatewayConfig, [.. redis.SignIn("Gateway:Redis", RedisUsers.Gateway), .. overrides]);

    public static async Task<GatewayHost> StartAsync(string redisConfiguration, string configFile, params string[] overrides)
    {
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--ConfigFile={configFile}",
            $"--Gateway:Redis:Configuration={redisConfiguration}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:Console:FormatterName=simple",

            // Forwarding tests play the old proxy's part; access checks have their own tests (Auth/),
            // which turn them back on by passing Mode=Ticket and a key.
            "--Gateway:Auth:Mode=None",
            .. overrides,
        ];
        var app = GatewayApplication.Create(args);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new GatewayHost(app, address);
    }

    public HttpClient CreateClient() => new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false })
    {
        BaseAddress = Address,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A client whose connections come from <paramref name="local"/> (127.0.0.2 plays a trusted load balancer).</summary>
    public HttpClient CreateClientFrom(System.Net.IPAddress local) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectCallback = async (context, token) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new System.Net.IPEndPoint(local, 0));
            await socket.ConnectAsync(context.DnsEndPoint, token);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = Address };

    public Uri WebSocketUri(string pathAndQuery) => new($"ws://{Address.Authority}{pathAndQuery}");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await _app.StopAsync(stop.Token);
        }

        await _app.DisposeAsync();
    }
}
