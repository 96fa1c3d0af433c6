using System.Globalization;
using System.Net;
using Gateway.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gateway.Tls;

/// <summary>
/// The listeners of <see cref="EndpointsOptions"/>: plain HTTP, and HTTPS with HTTP/2 and HTTP/1.1 offered by
/// ALPN. TLS is Kestrel's connection middleware on the HTTPS listener, so whatever serves the connection
/// after it (Kestrel's HTTP layers today) reads plaintext.
/// </summary>
internal static class EdgeListeners
{
    /// <summary>Whether <paramref name="endpoints"/> names any listener (otherwise ASP.NET Core's <c>Urls</c> apply).</summary>
    public static bool Configured(EndpointsOptions endpoints) => endpoints.Http.Length > 0 || endpoints.Https.Length > 0;

    /// <param name="serveHttp">
    /// Added to a listener's connections once they carry plaintext HTTP (after TLS on the HTTPS listener): the
    /// fast path when it is on. Never on a plain listener that only redirects to HTTPS.
    /// </param>
    public static void Listen(KestrelServerOptions kestrel, GatewayOptions gateway, ServerCertificates certificates, ILoggerFactory loggers, Action<ListenOptions> serveHttp)
    {
        var endpoints = gateway.Endpoints;
        if (endpoints.Http.Length > 0)
        {
            var redirectsOnly = endpoints.Https.Length > 0 && endpoints.RedirectHttpToHttps;
            Listen(kestrel, endpoints.Http, redirectsOnly ? _ => { } : serveHttp);
        }

        if (endpoints.Https.Length > 0)
        {
            var handshake = new TlsHandshakeCallbackOptions
            {
                OnConnection = context => ValueTask.FromResult(certificates.Select(context.ClientHelloInfo.ServerName)),
                HandshakeTimeout = gateway.Tls.HandshakeTimeout,
            };
            Listen(kestrel, endpoints.Https, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(handshake);
                listen.Use(next => new ModernCipherSuites(next, loggers.CreateLogger<ModernCipherSuites>()).OnConnectionAsync);
                serveHttp(listen);
            });
        }
    }

    /// <summary>
    /// Parses <c>host:port</c>: an IP address (IPv6 in brackets), <c>localhost</c>, or <c>*</c> for every
    /// address. False when <paramref name="address"/> is none of these.
    /// </summary>
    public static bool TryParse(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            return false;
        }

        host = address[..colon];
        if (host is "*" or "localhost")
        {
            return host != "localhost" || port != 0;
        }

        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(bare, out var ip) && (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) != host.StartsWith('[');
    }

    private static void Listen(KestrelServerOptions kestrel, string address, Action<ListenOptions> configure)
    {
        if (!TryParse(address, out var host, out var port))
        {
            throw new ArgumentException($"Not a listening address: {address}", nameof(address));
        }

        switch (host)
        {
            case "*":
                kestrel.ListenAnyIP(port, configure);
                break;
            case "localhost":
                kestrel.ListenLocalhost(port, configure);
                break;
            default:
                kestrel.Listen(IPAddress.Parse(host.Trim('[', ']')), port, configure);
                break;
        }
    }
}
