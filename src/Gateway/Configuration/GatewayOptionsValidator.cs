using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>
/// Rejects a bad <c>config/gateway.json</c> at start-up with messages that name the offending key,
/// so an operator never finds out from a 500 at request time.
/// </summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    private const string ForbiddenSidCharacters = "/\\%.|?#";
    private static readonly System.Buffers.SearchValues<char> Forbidden = System.Buffers.SearchValues.Create(ForbiddenSidCharacters);

    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();

        options.Redis.Validate("Gateway:Redis", GatewayApplication.ServiceName, failures);

        RequirePositive(failures, "Gateway:Redis:LookupTimeout", options.Redis.LookupTimeout);
        RequirePositive(failures, "Gateway:Redis:CircuitBreakDuration", options.Redis.CircuitBreakDuration);

        if (string.IsNullOrWhiteSpace(options.Routes.HashKey) || string.IsNullOrWhiteSpace(options.Routes.SharesHashKey))
        {
            failures.Add("Gateway:Routes:HashKey and SharesHashKey must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.Routes.InvalidationChannel))
        {
            failures.Add("Gateway:Routes:InvalidationChannel must not be empty.");
        }

        if (string.IsNullOrEmpty(options.Routes.SidCharacters))
        {
            failures.Add("Gateway:Routes:SidCharacters must list at least one character.");
        }
        else if (options.Routes.SidCharacters.AsSpan().ContainsAny(Forbidden)
            || options.Routes.SidCharacters.Any(c => c > 0x7E || c <= 0x20))
        {
            failures.Add($"Gateway:Routes:SidCharacters must be printable ASCII without any of '{ForbiddenSidCharacters}'.");
        }

        if (options.Routes.UnixSocketDirectory is { Length: > 0 } sockets
            && (sockets[0] != '/' || !string.Equals(Path.GetFullPath(sockets).TrimEnd('/'), sockets.TrimEnd('/'), StringComparison.Ordinal)))
        {
            failures.Add("Gateway:Routes:UnixSocketDirectory must be an absolute path without . or .. segments, or empty.");
        }

        if (options.Routes.SidMaxLength is < 1 or > 256)
        {
            failures.Add("Gateway:Routes:SidMaxLength must be between 1 and 256.");
        }

        if (options.Routes.WorkspaceDomain is { Length: > 0 } domain && !IsWorkspaceDomain(domain))
        {
            failures.Add("Gateway:Routes:WorkspaceDomain must be a lower-case DNS name with an optional port (e.g. ws.example.com or localhost:8080), not an IP address.");
        }

        // On a workspace's own origin a relative login address would name a page of the workspace itself.
        if (!string.IsNullOrEmpty(options.Routes.WorkspaceDomain) && options.Auth.LoginUrl is ['/', ..])
        {
            failures.Add("Gateway:Auth:LoginUrl must be an absolute http(s) address (the platform's page) when Gateway:Routes:WorkspaceDomain is set.");
        }

        RequirePositive(failures, "Gateway:Routes:CacheTtl", options.Routes.CacheTtl);
        RequirePositive(failures, "Gateway:Routes:NegativeCacheTtl", options.Routes.NegativeCacheTtl);
        RequirePositive(failures, "Gateway:Forwarding:ConnectTimeout", options.Forwarding.ConnectTimeout);
        RequirePositive(failures, "Gateway:Forwarding:HttpActivityTimeout", options.Forwarding.HttpActivityTimeout);
        RequirePositive(failures, "Gateway:Forwarding:WebSocketIdleTimeout", options.Forwarding.WebSocketIdleTimeout);
        RequirePositive(failures, "Gateway:Forwarding:ShutdownDrainTimeout", options.Forwarding.ShutdownDrainTimeout);
        if (options.Forwarding.ShutdownDelay < TimeSpan.Zero || options.Forwarding.ShutdownDelay > TimeSpan.FromMinutes(5))
        {
            failures.Add("Gateway:Forwarding:ShutdownDelay must be between 00:00:00 and 00:05:00.");
        }

        if (options.Forwarding.RetryAfterSeconds is < 1 or > 3600)
        {
            failures.Add("Gateway:Forwarding:RetryAfterSeconds must be between 1 and 3600.");
        }

        var limits = options.Limits;
        if (limits.MaxRequestBodySize is < 0)
        {
            failures.Add("Gateway:Limits:MaxRequestBodySize must be a number of bytes (0 or more), or null for no limit.");
        }

        if (limits.MaxRequestHeadersTotalSize is < 1024 or > 1024 * 1024)
        {
            failures.Add("Gateway:Limits:MaxRequestHeadersTotalSize must be between 1024 and 1048576 bytes.");
        }

        if (limits.MaxRequestHeaderCount is < 10 or > 1000)
        {
            failures.Add("Gateway:Limits:MaxRequestHeaderCount must be between 10 and 1000.");
        }

        if (limits.MaxRequestLineSize is < 1024 or > 1024 * 1024)
        {
            failures.Add("Gateway:Limits:MaxRequestLineSize must be between 1024 and 1048576 bytes.");
        }

        if (limits.MaxConcurrentConnections is < 1)
        {
            failures.Add("Gateway:Limits:MaxConcurrentConnections must be 1 or more, or null for no limit.");
        }

        RequirePositive(failures, "Gateway:Limits:RequestHeadersTimeout", limits.RequestHeadersTimeout);
        RequirePositive(failures, "Gateway:Limits:KeepAliveTimeout", limits.KeepAliveTimeout);

        foreach (var network in options.Forwarding.TrustedProxies)
        {
            if (!System.Net.IPNetwork.TryParse(network, out _))
            {
                failures.Add($"Gateway:Forwarding:TrustedProxies: '{network}' is not a network in CIDR notation (e.g. 10.0.0.0/8).");
            }
        }

        ValidateHttp2(limits.Http2, failures);
        ValidateEdge(options.Endpoints, options.Tls, failures);
        ValidateAuth(options.Auth, failures);

        var telemetry = options.Telemetry;
        telemetry.Validate("Gateway:Telemetry", failures);

        if (telemetry.MaxSidSeries is < 1 or > 10000)
        {
            failures.Add("Gateway:Telemetry:MaxSidSeries must be between 1 and 10000.");
        }

        if (options.Activity.Enabled && (options.Activity.FlushInterval < TimeSpan.FromMilliseconds(100) || string.IsNullOrWhiteSpace(options.Activity.Key)))
        {
            failures.Add("Gateway:Activity:FlushInterval must be at least 00:00:00.100 and Gateway:Activity:Key set (the web API's WebApi:IdleStop:ActivityKey).");
        }

        foreach (var (id, route) in options.StaticRoutes)
        {
            var key = $"Gateway:StaticRoutes:{id}";
            if (!route.PathPrefix.StartsWith('/'))
            {
                failures.Add($"{key}:PathPrefix must start with '/'.");
            }
            else if (route.PathPrefix == "/ws" || route.PathPrefix.StartsWith("/ws/", StringComparison.Ordinal))
            {
                failures.Add($"{key}:PathPrefix must not be under /ws/, which belongs to workspaces.");
            }

            if (!Uri.TryCreate(route.Destination, UriKind.Absolute, out var destination)
                || (destination.Scheme != Uri.UriSchemeHttp && destination.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{key}:Destination must be an absolute http:// or https:// address.");
            }
        }

        foreach (var host in options.Routes.PlatformHosts)
        {
            if (!Uri.TryCreate("http://" + (host.StartsWith("*.", StringComparison.Ordinal) ? "x" + host[1..] : host) + "/", UriKind.Absolute, out var parsed)
                || parsed.PathAndQuery != "/" || !string.IsNullOrEmpty(parsed.UserInfo))
            {
                failures.Add($"Gateway:Routes:PlatformHosts: '{host}' is not a host name with an optional port (ide.example.com, localhost:8080, *.example.com).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateHttp2(Http2LimitsOptions http2, List<string> failures)
    {
        const string Key = "Gateway:Limits:Http2";
        if (http2.MaxStreamsPerConnection is < 1 or > 10_000)
        {
            failures.Add($"{Key}:MaxStreamsPerConnection must be between 1 and 10000.");
        }

        if (http2.HeaderTableSize is < 0 or > 1024 * 1024)
        {
            failures.Add($"{Key}:HeaderTableSize must be between 0 and 1048576 bytes.");
        }

        // RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE lies between 2^14 and 2^24-1.
        if (http2.MaxFrameSize is < 16 * 1024 or > 16 * 1024 * 1024 - 1)
        {
            failures.Add($"{Key}:MaxFrameSize must be between 16384 and 16777215 bytes.");
        }

        if (http2.MaxRequestHeaderFieldSize is < 1024 or > 1024 * 1024)
        {
            failures.Add($"{Key}:MaxRequestHeaderFieldSize must be between 1024 and 1048576 bytes.");
        }

        // RFC 9113 §6.9.2: a window starts at 65535 at least (the protocol's own) and never exceeds 2^31-1.
        if (http2.InitialConnectionWindowSize < 65_535 || http2.InitialStreamWindowSize < 65_535
            || http2.InitialStreamWindowSize > http2.InitialConnectionWindowSize)
        {
            failures.Add($"{Key}:InitialConnectionWindowSize and InitialStreamWindowSize must be at least 65535 bytes, the stream's no larger than the connection's.");
        }

        if (http2.ResetFloodStreamsPerSecond < 1)
        {
            failures.Add($"{Key}:ResetFloodStreamsPerSecond must be 1 or more (it is the rapid-reset protection, CVE-2023-44487).");
        }

        if (http2.KeepAlivePingDelay is { } delay && delay < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{Key}:KeepAlivePingDelay must be at least 00:00:01, or null for no pings.");
        }

        RequirePositive(failures, $"{Key}:KeepAlivePingTimeout", http2.KeepAlivePingTimeout);
    }

    private static void ValidateEdge(EndpointsOptions endpoints, TlsOptions tls, List<string> failures)
    {
        const string Form = "host:port (0.0.0.0:8443, [::]:8443, *:8443 for every address, localhost:8443), or empty";
        if (endpoints.Http.Length > 0 && !Tls.EdgeListeners.TryParse(endpoints.Http, out _, out _))
        {
            failures.Add($"Gateway:Endpoints:Http must be {Form}.");
        }

        if (endpoints.Https.Length > 0 && !Tls.EdgeListeners.TryParse(endpoints.Https, out _, out _))
        {
            failures.Add($"Gateway:Endpoints:Https must be {Form}.");
        }

        if (endpoints.HttpsPort is < 1 or > 65535)
        {
            failures.Add("Gateway:Endpoints:HttpsPort must be a port from 1 to 65535 (the one browsers reach), or null for the HTTPS listener's own.");
        }

        if (endpoints.Https.Length > 0 && tls.Certificates.Count == 0)
        {
            failures.Add("Gateway:Endpoints:Https needs at least one certificate in Gateway:Tls:Certificates (CertificateFile and KeyFile, PEM).");
        }

        if (endpoints.Https.Length == 0 && tls.Certificates.Count > 0)
        {
            failures.Add("Gateway:Tls:Certificates are set but Gateway:Endpoints:Https is empty: no listener would serve them.");
        }

        for (var i = 0; i < tls.Certificates.Count; i++)
        {
            var files = tls.Certificates[i];
            if (string.IsNullOrWhiteSpace(files.CertificateFile) || string.IsNullOrWhiteSpace(files.KeyFile))
            {
                failures.Add($"Gateway:Tls:Certificates:{i} needs both CertificateFile and KeyFile.");
            }
            else if (Tls.LoadedCertificate.TryLoad(files, out var failure) is { } loaded)
            {
                loaded.Leaf.Dispose();
            }
            else
            {
                failures.Add($"Gateway:Tls:Certificates:{i}: {failure}");
            }
        }

        if (!Enum.IsDefined(tls.MinimumVersion))
        {
            failures.Add("Gateway:Tls:MinimumVersion must be Tls12 or Tls13.");
        }

        if (tls.ReloadInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add("Gateway:Tls:ReloadInterval must be at least 00:00:01.");
        }

        RequirePositive(failures, "Gateway:Tls:HandshakeTimeout", tls.HandshakeTimeout);

        var hsts = tls.Hsts;
        if (hsts.MaxAge < TimeSpan.Zero)
        {
            failures.Add("Gateway:Tls:Hsts:MaxAge must be 00:00:00 (off) or more.");
        }

        // What the browsers' preload list demands (hstspreload.org); a header that claims it otherwise is refused there.
        if (hsts.Preload && (!hsts.IncludeSubDomains || hsts.MaxAge < TimeSpan.FromDays(365)))
        {
            failures.Add("Gateway:Tls:Hsts:Preload needs IncludeSubDomains and a MaxAge of at least 365.00:00:00.");
        }
    }

    private static void ValidateAuth(AuthOptions auth, List<string> failures)
    {
        if (!Enum.IsDefined(auth.Mode))
        {
            failures.Add("Gateway:Auth:Mode must be Ticket or None.");
        }

        if (auth.Mode == AuthMode.Ticket)
        {
            Auth.SigningKeys.Load(auth, failures);
        }

        if (string.IsNullOrWhiteSpace(auth.Audience))
        {
            failures.Add("Gateway:Auth:Audience must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(auth.Issuer))
        {
            failures.Add("Gateway:Auth:Issuer must not be empty: the iss of the tickets the gateway accepts.");
        }

        // Both travel in URLs and headers unescaped: RFC 6265 cookie-name / query-name token characters only.
        if (!IsPlainName(auth.CookieName))
        {
            failures.Add("Gateway:Auth:CookieName must be letters, digits, '_' or '-'.");
        }

        if (!IsPlainName(auth.TicketParameter))
        {
            failures.Add("Gateway:Auth:TicketParameter must be letters, digits, '_' or '-'.");
        }

        if (auth.SessionLifetime < TimeSpan.FromMinutes(1))
        {
            failures.Add("Gateway:Auth:SessionLifetime must be at least 00:01:00.");
        }

        if (auth.ClockSkew < TimeSpan.Zero || auth.ClockSkew > TimeSpan.FromMinutes(5))
        {
            failures.Add("Gateway:Auth:ClockSkew must be between 00:00:00 and 00:05:00.");
        }

        if (!string.IsNullOrEmpty(auth.LoginUrl)
            && !(auth.LoginUrl.StartsWith('/') && !auth.LoginUrl.StartsWith("//", StringComparison.Ordinal))
            && !(Uri.TryCreate(auth.LoginUrl, UriKind.Absolute, out var login) && (login.Scheme == Uri.UriSchemeHttp || login.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add("Gateway:Auth:LoginUrl must be a path starting with '/' or an absolute http(s) address, or empty.");
        }
    }

    private static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static bool IsWorkspaceDomain(string setting)
    {
        var colon = setting.LastIndexOf(':');
        var name = colon < 0 ? setting : setting[..colon];
        if (colon >= 0 && !(int.TryParse(setting.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            && port is >= 1 and <= 65535 && setting[colon + 1] != '0'))
        {
            return false;
        }

        return name.Length is > 0 and <= 253
            && System.Net.IPAddress.TryParse(name, out _) is false
            && name.Split('.').All(label => label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-'
                && label.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'));
    }

    private static void RequirePositive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{key} must be a positive time span (e.g. \"00:00:05\").");
        }
    }
}
