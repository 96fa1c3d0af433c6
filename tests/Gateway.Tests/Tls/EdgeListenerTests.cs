using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tests.Infrastructure;
using Gateway.Tls;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Tls;

/// <summary>A gateway of its own per test: certificates rotated under traffic, the plain port's redirect, shutdown over HTTP/2.</summary>
public sealed class EdgeListenerTests : IAsyncLifetime, IDisposable
{
    private readonly RedisServer _redis = new();
    private readonly TestCertificates _certificates = new();
    private TestBackend _backend = null!;
    private RedisTestClient _writer = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _backend = await TestBackend.StartAsync("A");
        _writer = _redis.Connect();
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        _writer.Dispose();
        await _redis.DisposeAsync();
    }

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task A_certificate_rotated_in_place_is_served_within_seconds_and_no_request_fails_meanwhile()
    {
        var pair = _certificates.Issue("edge", "gateway.test");
        await using var gateway = await StartAsync(pair);
        var sid = await RouteAsync(gateway);
        var seen = new List<X509Certificate2>();
        var failures = new List<string>();
        var requests = 0;
        using var stop = new CancellationTokenSource();
        using var keptAlive = new HttpClient(_certificates.Handler()) { BaseAddress = gateway.Address };

        // New connections (a handshake each) and one kept-alive connection, both busy through the rotation.
        var traffic = Task.WhenAll(Enumerable.Range(0, 2).Select(worker => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    HttpResponseMessage response;
                    if (worker == 0)
                    {
                        using var fresh = new HttpClient(_certificates.Handler(seen: seen)) { BaseAddress = gateway.Address };
                        response = await fresh.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
                    }
                    else
                    {
                        response = await keptAlive.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
                    }

                    using (response)
                    {
                        if (response.StatusCode != HttpStatusCode.OK)
                        {
                            lock (failures)
                            {
                                failures.Add($"HTTP {(int)response.StatusCode}");
                            }
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    lock (failures)
                    {
                        failures.Add(ex.Message);
                    }
                }

                Interlocked.Increment(ref requests);
            }
        })));

        await Task.Delay(500);
        var renewed = _certificates.Renew(pair, "gateway.test");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!Served(seen, renewed.Certificate) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        var after = clock.Elapsed;
        await Task.Delay(300);
        await stop.CancelAsync();
        await traffic;

        Assert.True(Served(seen, pair.Certificate), "the first certificate was never seen");
        Assert.True(Served(seen, renewed.Certificate), $"the renewed certificate was not served within {after.TotalSeconds:F1} s");
        Assert.True(after < TimeSpan.FromSeconds(5), $"served after {after.TotalSeconds:F1} s");
        Assert.Empty(failures);
        Assert.True(requests > 20, $"only {requests} requests");
    }

    [Fact]
    public async Task A_rotation_caught_half_way_keeps_the_served_certificate_until_the_files_agree_again()
    {
        var pair = _certificates.Issue("edge", "gateway.test");
        await using var gateway = await StartAsync(pair);
        var certificates = gateway.Services.GetRequiredService<ServerCertificates>();

        TestCertificates.WriteMismatched(pair);
        certificates.Reload();
        Assert.Equal(pair.Certificate.Thumbprint, await ServedThumbprintAsync(gateway));

        var renewed = _certificates.Renew(pair, "gateway.test");
        certificates.Reload();
        Assert.Equal(renewed.Certificate.Thumbprint, await ServedThumbprintAsync(gateway));
    }

    [Fact]
    public async Task The_plain_port_redirects_to_the_same_address_over_https_keeping_the_method()
    {
        var pair = _certificates.Issue("edge", "gateway.test");
        await using var gateway = await StartAsync(pair, "--Gateway:Endpoints:Http=127.0.0.1:0");
        var plain = gateway.Addresses.Single(address => address.Scheme == Uri.UriSchemeHttp);
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = plain };

        using var request = new HttpRequestMessage(HttpMethod.Post, "/ws/w1/a%20b/?x=1&y=2") { Content = new StringContent("form") };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
        Assert.Equal($"https://127.0.0.1:{gateway.Address.Port}/ws/w1/a%20b/?x=1&y=2", response.Headers.Location!.OriginalString);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Behind_a_port_mapping_the_redirect_names_the_public_port()
    {
        var pair = _certificates.Issue("edge", "gateway.test");
        await using var gateway = await StartAsync(pair, "--Gateway:Endpoints:Http=127.0.0.1:0", "--Gateway:Endpoints:HttpsPort=443");
        var plain = gateway.Addresses.Single(address => address.Scheme == Uri.UriSchemeHttp);
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = plain };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ws/w1/");
        request.Headers.Host = "gateway.test:8080";

        using var response = await client.SendAsync(request);

        Assert.Equal("https://gateway.test/ws/w1/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task On_shutdown_a_websocket_over_http2_gets_1001()
    {
        var pair = _certificates.Issue("edge", "gateway.test");
        var gateway = await StartAsync(pair);
        var sid = await RouteAsync(gateway);
        using var handler = _certificates.Handler();
        using var socket = await gateway.ConnectOverHttp2Async($"/ws/{sid}/socket", handler);
        Assert.Equal("A:ping", await socket.EchoAsync("ping"));

        var closed = socket.CloseReceivedAsync(TimeSpan.FromSeconds(5));
        await gateway.DisposeAsync();

        var (status, _) = await closed;
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
    }

    private static bool Served(List<X509Certificate2> seen, X509Certificate2 certificate)
    {
        lock (seen)
        {
            return seen.Any(shown => shown.Thumbprint == certificate.Thumbprint);
        }
    }

    private async Task<string> ServedThumbprintAsync(GatewayHost gateway)
    {
        var seen = new List<X509Certificate2>();
        using var client = new HttpClient(_certificates.Handler(seen: seen)) { BaseAddress = gateway.Address };
        using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
        return seen.Single().Thumbprint;
    }

    private Task<GatewayHost> StartAsync(CertificatePair pair, params string[] settings) =>
        GatewayHost.StartAsync(_redis, _certificates,
        [
            "--Gateway:Endpoints:Https=127.0.0.1:0",
            .. pair.Settings(0),
            "--Gateway:Tls:ReloadInterval=00:00:01",
            .. settings,
        ]);

    private async Task<string> RouteAsync(GatewayHost gateway)
    {
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await _writer.SetRouteAsync(sid, _backend.Address);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return sid;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{sid} not served within 5 s");
            await Task.Delay(100);
        }
    }
}
