using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gateway.Forwarding;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Tls;

/// <summary>With the gateway's defaults: the fast path serves what it takes, the YARP way the rest.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EdgeTlsTests(GatewayOnTls env) : EdgeTlsTests<GatewayOnTls>(env);

/// <summary>The same with the fast path off: every request the YARP way, which the fast path must match.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EdgeTlsTestsThroughYarp(YarpGatewayOnTls env) : EdgeTlsTests<YarpGatewayOnTls>(env);

/// <summary>The gateway terminating TLS itself: what browsers negotiate with it, and what workspaces then see.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public abstract class EdgeTlsTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : GatewayOnTls
{
    private IPEndPoint Endpoint => new(IPAddress.Loopback, env.Gateway.Address.Port);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 0)]
    public async Task Browsers_get_http2_or_http11_over_tls_and_the_workspace_hears_https(int major, int minor)
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var client = new HttpClient(env.Gateway.CreateHandler()) { BaseAddress = env.Gateway.Address };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/page?x=1")
        {
            Version = new Version(major, minor),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Version(major, minor), response.Version);
        var echo = TestBackend.ParseEcho(await response.Content.ReadAsStringAsync());
        Assert.Equal("/page?x=1", echo.RawTarget);
        Assert.Equal("https", echo.Headers["x-forwarded-proto"]);
        Assert.Equal(env.Gateway.Address.Authority, echo.Headers["x-forwarded-host"]);
    }

    // Per-workspace origins need the wildcard certificate; the platform's own name its own; and a client that
    // names nothing the gateway has (or nothing at all: an IP address) still gets a certificate, the first.
    [Theory]
    [InlineData(GatewayOnTls.PlatformName, GatewayOnTls.PlatformName)]
    [InlineData("w1234.ws.test", GatewayOnTls.WorkspaceWildcard)]
    [InlineData("3000--w1234.ws.test", GatewayOnTls.WorkspaceWildcard)]
    [InlineData("W1234.WS.TEST", GatewayOnTls.WorkspaceWildcard)]
    [InlineData("a.w1234.ws.test", GatewayOnTls.PlatformName)]
    [InlineData("other.example", GatewayOnTls.PlatformName)]
    [InlineData("", GatewayOnTls.PlatformName)]
    public async Task The_certificate_is_chosen_by_the_name_the_client_asks_for(string serverName, string expectedName)
    {
        var certificate = await HandshakeAsync(serverName);

        Assert.Equal($"CN={expectedName}", certificate.Subject);
    }

    [Fact]
    public async Task Http2_is_offered_by_alpn_and_only_tls_12_or_13_with_forward_secret_aead_suites_is_spoken()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Endpoint);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = GatewayOnTls.PlatformName,
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => env.Certificates.Trusts(certificate, errors),
        });
        Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
        Assert.Contains(tls.SslProtocol, new[] { SslProtocols.Tls12, SslProtocols.Tls13 });

        // A TLS 1.2 client offering only CBC suites (no AEAD): never served, whether the handshake fails or the
        // connection is closed right after it, before a request is read.
        Assert.Null(await RequestWithOnlyAsync(new CipherSuitesPolicy(
        [
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
        ])));
        Assert.StartsWith("HTTP/1.1 200", await RequestWithOnlyAsync(new CipherSuitesPolicy([TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256])), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Https_responses_carry_the_gateways_hsts_and_a_workspace_cannot_replace_it()
    {
        var sid = await env.RouteCachedAsync(env.A);

        using var forwarded = await env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/hsts", UriKind.Relative));
        using var problem = await env.Gateway.Client.GetAsync(new Uri("/nothing-here", UriKind.Relative));
        using var health = await env.Gateway.Client.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal("hsts set", await forwarded.Content.ReadAsStringAsync());
        foreach (var response in new[] { forwarded, problem, health })
        {
            Assert.Equal("max-age=86400", string.Join(",", response.Headers.GetValues("Strict-Transport-Security")));
        }

        Assert.Equal(HttpStatusCode.NotFound, problem.StatusCode);
    }

    [Fact]
    public async Task A_websocket_over_http2_reaches_an_http11_workspace_and_shares_the_browsers_connection()
    {
        var sid = await env.RouteAsync(env.A);
        var tunnels = env.Gateway.Services.GetRequiredService<OpenTunnels>();
        using var handler = env.Gateway.CreateHandler();
        var connections = 0;
        var connect = handler.ConnectCallback;
        handler.ConnectCallback = async (context, cancellation) =>
        {
            Interlocked.Increment(ref connections);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(context.DnsEndPoint, cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        };

        using var first = await env.Gateway.ConnectOverHttp2Async($"/ws/{sid}/socket", handler);
        using var second = await env.Gateway.ConnectOverHttp2Async($"/ws/{sid}/socket", handler);

        Assert.Equal("A:one", await first.EchoAsync("one"));
        Assert.Equal("A:two", await second.EchoAsync("two"));
        Assert.Equal(1, connections);
        Assert.True(tunnels.Count >= 2, $"{tunnels.Count} tunnels tracked");

        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, first.CloseStatus);
        Assert.Equal("A:still", await second.EchoAsync("still"));
    }

    [Theory]
    [InlineData(false, "The workspace was stopped")]
    [InlineData(true, "The workspace moved; reconnect")]
    public async Task A_websocket_over_http2_is_told_when_its_workspace_stops_or_moves(bool moved, string expected)
    {
        var sid = await env.RouteAsync(env.A);
        using var handler = env.Gateway.CreateHandler();
        using var socket = await env.Gateway.ConnectOverHttp2Async($"/ws/{sid}/socket", handler);
        Assert.Equal("A:ping", await socket.EchoAsync("ping"));

        await (moved ? env.Writer.SetRouteAsync(sid, env.B.Address) : env.Writer.RemoveRouteAsync(sid));
        await env.Writer.PublishAsync(sid);

        var (status, reason) = await socket.CloseReceivedAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.Equal(expected, reason);
    }

    [Fact]
    public async Task A_websocket_over_http2_to_a_workspace_that_refuses_it_gets_the_workspaces_answer()
    {
        var sid = await env.RouteAsync(env.A);
        using var handler = env.Gateway.CreateHandler();
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.SetRequestHeader("Origin", "https://evil.example");
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() =>
            socket.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), new HttpMessageInvoker(handler, disposeHandler: false), CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
    }

    /// <summary>The first line of the answer to GET /healthz over TLS 1.2 offering only <paramref name="ciphers"/>; null when none came.</summary>
    private async Task<string?> RequestWithOnlyAsync(CipherSuitesPolicy ciphers)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Endpoint);
        await using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = GatewayOnTls.PlatformName,
                EnabledSslProtocols = SslProtocols.Tls12,
                CipherSuitesPolicy = ciphers,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => env.Certificates.Trusts(certificate, errors),
            });
            await tls.WriteAsync("GET /healthz HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n"u8.ToArray());
            using var reader = new StreamReader(tls);
            return await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            return null;
        }
    }

    private async Task<X509Certificate2> HandshakeAsync(string serverName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Endpoint);
        await using var tls = new SslStream(tcp.GetStream());
        X509Certificate2? shown = null;
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            // Issued by the test's authority, whichever name it carries: which one is what the test asks.
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                shown = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
                return env.Certificates.Trusts(certificate, errors & ~SslPolicyErrors.RemoteCertificateNameMismatch);
            },
        });
        return shown!;
    }
}
