using Contracts.Routing;
using Contracts.Tickets;
using ServiceDefaults.Redis;
using ServiceDefaults.Telemetry;

namespace Gateway.Configuration;

/// <summary>
/// Everything an operator tunes, bound from the <c>Gateway</c> section of <c>config/gateway.json</c>.
/// </summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    public EndpointsOptions Endpoints { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    public RedisOptions Redis { get; set; } = new();

    public RoutesOptions Routes { get; set; } = new();

    public ForwardingOptions Forwarding { get; set; } = new();

    public LimitsOptions Limits { get; set; } = new();

    public TelemetryOptions Telemetry { get; set; } = new();

    public AuthOptions Auth { get; set; } = new();

    public ActivityOptions Activity { get; set; } = new();

    /// <summary>Backends that are not workspaces (e.g. the web API), keyed by route id.</summary>
    public Dictionary<string, StaticRouteOptions> StaticRoutes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Last use per workspace, for the web API's idle auto-stop.</summary>
public sealed class ActivityOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Redis sorted set: member = sid, score = unix seconds of the last use.</summary>
    public string Key { get; set; } = RouteStore.ActivityKey;

    /// <summary>Uses are written this often, in one command for all workspaces used meanwhile.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The gateway's Redis: where it is and the gateway's user there (<see cref="RedisConnectionOptions"/>), and the bounds of a route lookup.</summary>
public sealed class RedisOptions : RedisConnectionOptions
{
    /// <summary>Upper bound on one route lookup; the client library's own timeouts are far longer.</summary>
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// How long uncached sids are answered 503 without trying Redis after it failed repeatedly (the breaker
    /// also closes as soon as the connection is restored).
    /// </summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromMilliseconds(500);
}

public sealed class RoutesOptions
{
    /// <summary>Redis hash holding <c>sid -> "host:port"</c>; the old proxy's <c>hosts</c>.</summary>
    public string HashKey { get; set; } = RouteStore.HostsKey;

    /// <summary>
    /// Redis hash holding <c>sid -> "3000=public,8080=authenticated"</c>, the sharing levels of a workspace's
    /// ports, read with its route. A port not listed is private.
    /// </summary>
    public string SharesHashKey { get; set; } = RouteStore.SharesKey;

    /// <summary>Channel on which writers publish a sid, or <c>*</c>, after changing the hash.</summary>
    public string InvalidationChannel { get; set; } = RouteStore.InvalidationChannel;

    /// <summary>Characters a sid may contain. Never '/', '%', '.', or '|' (CSRedisCore's Publish sends "n|message", which the listener unwraps).</summary>
    public string SidCharacters { get; set; } = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

    public int SidMaxLength { get; set; } = 64;

    /// <summary>
    /// Host-based routing: <c>&lt;sid&gt;.&lt;WorkspaceDomain&gt;</c> serves the editor and
    /// <c>&lt;port&gt;--&lt;sid&gt;.&lt;WorkspaceDomain&gt;</c> the dev server on that port, each on its own origin.
    /// Lower case, with the port browsers put in Host when it is not 80/443 (<c>localhost:8080</c> on one
    /// machine; <c>ws.example.com</c> behind a load balancer). Unset: path routing only.
    /// </summary>
    public string? WorkspaceDomain { get; set; }

    /// <summary>
    /// The folder under which <c>unix:&lt;path&gt;</c> routes may point (the operator's local driver: each editor
    /// on a socket in its workspace's folder). Empty: no Unix-socket route is followed (502), so nothing in
    /// Redis can point the gateway at another service's socket.
    /// </summary>
    public string UnixSocketDirectory { get; set; } = "";

    /// <summary>
    /// Host names on which the gateway serves what is not a workspace (the platform's page and API, the static
    /// routes): <c>ide.example.com</c>, <c>localhost:8080</c> for one port, <c>*.example.com</c>; empty: any.
    /// Any other name (a DNS-rebinding page, a foreign name pointed here) gets 421. Workspaces (by path, or on
    /// <see cref="WorkspaceDomain"/>) and the health probes are answered on any name.
    /// </summary>
    public string[] PlatformHosts { get; set; } = [];

    /// <summary>A cached route is looked up again after this long, so a writer that forgets to publish is still seen.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long "no such workspace" is remembered, so a flood of bad sids cannot flood Redis.</summary>
    public TimeSpan NegativeCacheTtl { get; set; } = TimeSpan.FromSeconds(2);
}

public sealed class ForwardingOptions
{
    /// <summary>Time allowed to open a TCP connection to a workspace before answering 502.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Idle time allowed on a plain HTTP exchange before answering 504.</summary>
    public TimeSpan HttpActivityTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Idle time allowed on an upgraded (WebSocket) connection. YARP's default of 100 s would cut an
    /// editor left open over lunch, so this defaults to an hour.
    /// </summary>
    public TimeSpan WebSocketIdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Seconds sent in Retry-After when the route store is unreachable.</summary>
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>
    /// Networks (CIDR, e.g. <c>10.0.0.0/8</c>) of load balancers in front of the gateway. Their
    /// X-Forwarded-For is appended to and their X-Forwarded-Proto/Host kept; from anyone else all
    /// X-Forwarded-* headers are replaced. Empty: nobody is trusted.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>
    /// On SIGTERM: how long in-flight HTTP requests may take to finish after the gateway stops accepting
    /// (WebSockets are closed with 1001 when it stops accepting). Read at start-up.
    /// </summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// On SIGTERM: how long the gateway answers <c>/readyz</c> 503 while it goes on serving and accepting, before
    /// it closes WebSockets (1001) and stops accepting: time for a load balancer that probes it to take it out of
    /// rotation. Zero (the default) on Kubernetes, where the pod's preStop pause plays that part. Read at start-up.
    /// </summary>
    public TimeSpan ShutdownDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Serve the plainest HTTP/1.1 requests to a running workspace (a GET or HEAD of the editor by a remembered
    /// session) on the connection itself, before Kestrel's HTTP layers and YARP, over pooled raw sockets; all
    /// other requests are served by Kestrel and YARP, on the same connection. Read at start-up.
    /// </summary>
    public bool FastPath { get; set; } = true;
}

/// <summary>Kestrel's limits on what a client may send. Read at start-up.</summary>
public sealed class LimitsOptions
{
    /// <summary>
    /// Largest request body in bytes (413 above it); null for none. Larger than Kestrel's 30 MB default:
    /// users upload files and extensions (.vsix) into their workspace through the editor.
    /// </summary>
    public long? MaxRequestBodySize { get; set; } = 256L * 1024 * 1024;

    /// <summary>All request headers together, in bytes (431 above it).</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 64 * 1024;

    /// <summary>Number of request headers (431 above it).</summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>Request line (method, target, version) in bytes (414 above it).</summary>
    public int MaxRequestLineSize { get; set; } = 16 * 1024;

    /// <summary>Open client connections, WebSockets included; null for no limit.</summary>
    public long? MaxConcurrentConnections { get; set; }

    /// <summary>Time a client has to send all request headers before its connection is closed (slow clients).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time an HTTP/1.1 client may keep an idle connection open between requests (Kestrel's default).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);

    public Http2LimitsOptions Http2 { get; set; } = new();
}

/// <summary>OpenTelemetry export (the shared settings), plus the gateway's per-workspace tunnel gauge.</summary>
public sealed class TelemetryOptions : TelemetryExportOptions
{
    /// <summary>Also export open tunnels per sid, for at most <see cref="MaxSidSeries"/> sids.</summary>
    public bool TunnelsPerSid { get; set; }

    public int MaxSidSeries { get; set; } = 500;
}

/// <summary>Who may reach a workspace. Read live: keys can be rotated without a restart.</summary>
public sealed class AuthOptions
{
    /// <summary><c>Ticket</c>: every workspace request needs a valid ticket or session; <c>None</c>: the old proxy's open door.</summary>
    public AuthMode Mode { get; set; } = AuthMode.Ticket;

    /// <summary>
    /// Base64 of at least 32 bytes, shared with the web API: verifies HS256 tickets and signs the gateway's
    /// session cookies. A secret: set it from the environment (<c>Gateway__Auth__SigningKey</c>), not in this file.
    /// </summary>
    public string SigningKey { get; set; } = "";

    /// <summary>PEM files with EC P-256 public keys; tickets signed ES256 by a matching private key are accepted too.</summary>
    public string[] TicketPublicKeyFiles { get; set; } = [];

    /// <summary>The <c>aud</c> every ticket must carry.</summary>
    public string Audience { get; set; } = TicketContract.DefaultAudience;

    /// <summary>The <c>iss</c> every ticket must carry: the web API's, or whatever signs tickets with <see cref="TicketPublicKeyFiles"/>.</summary>
    public string Issuer { get; set; } = TicketContract.Issuer;

    /// <summary>Query parameter carrying a ticket on the first navigation; removed before forwarding.</summary>
    public string TicketParameter { get; set; } = "ticket";

    /// <summary>Name of the session cookie the gateway sets, scoped to <c>/ws/&lt;sid&gt;/</c>.</summary>
    public string CookieName { get; set; } = "gw_session";

    /// <summary>
    /// Lifetime of a session cookie; renewed on use once half of it has passed, so an editor in use is
    /// never cut, and an abandoned one stops working after this long.
    /// </summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Tolerance for clocks of the web API and the gateway disagreeing.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where browser navigations without a credential are sent (e.g. <c>/login</c>), with
    /// <c>returnTo=&lt;the address asked for&gt;</c> added; empty: answer 401. Absolute when workspaces have
    /// their own origins (<see cref="RoutesOptions.WorkspaceDomain"/>); there returnTo is absolute too.
    /// </summary>
    public string? LoginUrl { get; set; }
}

public enum AuthMode
{
    Ticket,
    None,
}

public sealed class StaticRouteOptions
{
    /// <summary>Path prefix matched by this route, e.g. <c>/api</c>; <c>/</c> matches everything not under <c>/ws/</c>.</summary>
    public string PathPrefix { get; set; } = "/";

    /// <summary>Absolute http(s) address the matched requests are forwarded to, path kept.</summary>
    public string Destination { get; set; } = "";
}
