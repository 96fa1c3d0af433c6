using System.Net;
using Gateway.Configuration;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// The per-request forwarder configuration, rebuilt as an immutable snapshot when the options change so
/// the hot path reads one field. Upgraded connections get their own idle timeout, longer than a plain
/// exchange's: an editor left open over lunch must not be cut.
/// </summary>
internal sealed class ForwardingSettings
{
    private volatile Snapshot _current;

    public ForwardingSettings(IOptionsMonitor<GatewayOptions> options)
    {
        _current = new Snapshot(options.CurrentValue.Forwarding);
        options.OnChange(o => _current = new Snapshot(o.Forwarding));
    }

    public int RetryAfterSeconds => _current.RetryAfterSeconds;

    public TimeSpan TunnelIdleTimeout => _current.TunnelIdleTimeout;

    public ForwarderRequestConfig For(HttpContext context)
    {
        var current = _current;
        return IsTunnel(context) ? current.Tunnel : current.Http;
    }

    /// <summary>A WebSocket over HTTP/2: an extended CONNECT (RFC 8441) for the <c>websocket</c> protocol.</summary>
    public static bool IsWebSocketOverHttp2(HttpContext context) =>
        context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect
        && string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);

    /// <summary>An HTTP/1.1 upgrade, or a WebSocket over HTTP/2 (extended CONNECT, RFC 8441).</summary>
    public static bool IsTunnel(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;

    private sealed class Snapshot(ForwardingOptions options)
    {
        // Workspaces speak plain HTTP/1.1; asking for exactly that skips version negotiation.
        public ForwarderRequestConfig Http { get; } = new()
        {
            ActivityTimeout = options.HttpActivityTimeout,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        // Only until the workspace answers the upgrade: after a 101 the tunnel is TunnelRelay's, whose idle
        // timeout is WebSocketIdleTimeout.
        public ForwarderRequestConfig Tunnel { get; } = new()
        {
            ActivityTimeout = options.HttpActivityTimeout,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        public int RetryAfterSeconds { get; } = options.RetryAfterSeconds;

        public TimeSpan TunnelIdleTimeout { get; } = options.WebSocketIdleTimeout;
    }
}
