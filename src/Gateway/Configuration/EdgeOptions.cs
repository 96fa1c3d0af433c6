namespace Gateway.Configuration;

/// <summary>
/// Where the gateway listens. Empty (the default): ASP.NET Core's own <c>Urls</c> setting, plain HTTP, as
/// before; set <see cref="Https"/> and the gateway terminates TLS itself (<see cref="TlsOptions"/>). Read at start-up.
/// </summary>
public sealed class EndpointsOptions
{
    /// <summary>Plain HTTP, <c>host:port</c> (<c>0.0.0.0:8080</c>, <c>[::]:8080</c>, <c>localhost:8080</c>); empty: none.</summary>
    public string Http { get; set; } = "";

    /// <summary>HTTPS with HTTP/2 and HTTP/1.1, <c>host:port</c>; empty: none.</summary>
    public string Https { get; set; } = "";

    /// <summary>
    /// The <see cref="Http"/> listener answers every request with a 308 to the same address over HTTPS,
    /// instead of serving it. Off: it serves plain HTTP beside HTTPS (a load balancer's health checks, say).
    /// </summary>
    public bool RedirectHttpToHttps { get; set; } = true;

    /// <summary>
    /// The port redirects name: the one browsers reach (443 behind a Service that maps 443 to the pod's
    /// 8443). Null: the port <see cref="Https"/> listens on.
    /// </summary>
    public int? HttpsPort { get; set; }
}

/// <summary>TLS on the <see cref="EndpointsOptions.Https"/> listener. Certificates are re-read while running.</summary>
public sealed class TlsOptions
{
    /// <summary>
    /// PEM certificate (leaf first, then its intermediates) and key files, as a Kubernetes TLS Secret mounts
    /// them. Each is served for the DNS names it carries (wildcards too); the first also to clients that
    /// name no host or one no certificate has.
    /// </summary>
    public List<CertificateFileOptions> Certificates { get; set; } = [];

    /// <summary><c>Tls12</c> (TLS 1.2 and 1.3, what every browser of the last decade speaks) or <c>Tls13</c> (1.3 only).</summary>
    public TlsMinimumVersion MinimumVersion { get; set; } = TlsMinimumVersion.Tls12;

    /// <summary>How often the certificate files are compared with what is served (cert-manager rotates them in place).</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a client has to finish the TLS handshake.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Strict-Transport-Security on HTTPS responses (RFC 6797). Off while <see cref="HstsOptions.MaxAge"/> is zero.</summary>
    public HstsOptions Hsts { get; set; } = new();
}

public sealed class CertificateFileOptions
{
    public string CertificateFile { get; set; } = "";

    public string KeyFile { get; set; } = "";
}

public enum TlsMinimumVersion
{
    Tls12,
    Tls13,
}

public sealed class HstsOptions
{
    /// <summary>How long browsers keep to HTTPS for this host; zero sends no header.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.Zero;

    /// <summary>Also every name under the host: with per-workspace origins (<c>&lt;sid&gt;.ws.example.com</c>), set it on that domain.</summary>
    public bool IncludeSubDomains { get; set; }

    /// <summary>Adds <c>preload</c>: only once the domain is submitted to the browsers' preload list.</summary>
    public bool Preload { get; set; }
}

/// <summary>
/// Kestrel's HTTP/2 limits, the ones that matter at an edge (RFC 9113 §6.5.2 settings, flow control, and
/// how many streams a client may reset while their work goes on: CVE-2023-44487). Read at start-up.
/// </summary>
public sealed class Http2LimitsOptions
{
    /// <summary>Streams open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS); a workbench load needs ~100.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>HPACK dynamic table, bytes (SETTINGS_HEADER_TABLE_SIZE).</summary>
    public int HeaderTableSize { get; set; } = 4096;

    /// <summary>Largest frame payload accepted, bytes (SETTINGS_MAX_FRAME_SIZE, 16 KiB to 16 MiB).</summary>
    public int MaxFrameSize { get; set; } = 16 * 1024;

    /// <summary>Largest single header field after HPACK decoding, bytes (431 above it). The total is Limits:MaxRequestHeadersTotalSize.</summary>
    public int MaxRequestHeaderFieldSize { get; set; } = 16 * 1024;

    /// <summary>Bytes a client may send on one connection before the gateway reads them (connection flow-control window).</summary>
    public int InitialConnectionWindowSize { get; set; } = 1024 * 1024;

    /// <summary>Bytes a client may send on one stream before the gateway reads them (stream flow-control window).</summary>
    public int InitialStreamWindowSize { get; set; } = 768 * 1024;

    /// <summary>
    /// Streams a client may start per second (averaged over 5 s) while it holds more than twice
    /// <see cref="MaxStreamsPerConnection"/> streams, counting those it reset whose work still goes on; past it
    /// the connection is closed (GOAWAY ENHANCE_YOUR_CALM). This is the rapid-reset attack's signature; Kestrel's
    /// default is 20.
    /// </summary>
    public int ResetFloodStreamsPerSecond { get; set; } = 20;

    /// <summary>A PING after this long without a frame from the client; null: never.</summary>
    public TimeSpan? KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The connection is closed when that PING is not answered within this long.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
