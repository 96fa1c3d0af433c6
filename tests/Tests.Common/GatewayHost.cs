using Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Tests.Common;

/// <summary>
/// The real gateway application on a real loopback socket, configured from config/gateway.json with
/// test overrides passed the way an operator would (<c>--Gateway:...=...</c>).
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, Uri[] addresses, TestCertificates? certificates)
    {
        _app = app;
        Addresses = addresses;
        Certificates = certificates;

        // HTTPS when it listens there: the plain listener may only redirect.
        Address = addresses.FirstOrDefault(address => address.Scheme == Uri.UriSchemeHttps) ?? addresses[0];
        Client = CreateClient();
    }

    /// <summary>Where it listens: HTTPS when it does, otherwise plain HTTP.</summary>
    public Uri Address { get; }

    /// <summary>Every listener, in the order Kestrel reports them.</summary>
    public Uri[] Addresses { get; }

    /// <summary>The authority its clients trust, when it serves HTTPS.</summary>
    public TestCertificates? Certificates { get; }

    /// <summary>No redirects followed, no cookies kept: what the gateway answered, as it answered it.</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayHost> StartAsync(RedisServer redis, params string[] overrides) =>
        await StartAsync(redis.Configuration, RepositoryPaths.GatewayConfig, [.. redis.SignIn("Gateway:Redis", RedisUsers.Gateway), .. overrides]);

    /// <summary>A gateway serving HTTPS with certificates of <paramref name="certificates"/>; its clients trust that authority.</summary>
    public static async Task<GatewayHost> StartAsync(RedisServer redis, TestCertificates certificates, params string[] overrides) =>
        await StartAsync(redis.Configuration, RepositoryPaths.GatewayConfig, certificates, [.. redis.SignIn("Gateway:Redis", RedisUsers.Gateway), .. overrides]);

    public static Task<GatewayHost> StartAsync(string redisConfiguration, string configFile, params string[] overrides) =>
        StartAsync(redisConfiguration, configFile, null, overrides);

    private static async Task<GatewayHost> StartAsync(string redisConfiguration, string configFile, TestCertificates? certificates, string[] overrides)
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
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToArray();
        return new GatewayHost(app, addresses, certificates);
    }

    public HttpClient CreateClient() => new(CreateHandler())
    {
        BaseAddress = Address,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>No redirects, no cookies, no proxy; trusting <see cref="Certificates"/> when it serves HTTPS.</summary>
    public SocketsHttpHandler CreateHandler() =>
        Certificates?.Handler() ?? new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false };

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

    public Uri WebSocketUri(string pathAndQuery) => new($"{(Address.Scheme == Uri.UriSchemeHttps ? "wss" : "ws")}://{Address.Authority}{pathAndQuery}");

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
