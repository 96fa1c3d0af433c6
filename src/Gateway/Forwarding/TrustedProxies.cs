using System.Net;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Forwarding;

/// <summary>
/// Which peers may tell us about the client (<see cref="ForwardingOptions.TrustedProxies"/>): a load balancer
/// in front of the gateway is believed about the client's address and scheme; anyone else is not: a client could claim any address or scheme.
/// </summary>
internal sealed class TrustedProxies
{
    private volatile IPNetwork[] _networks;

    public TrustedProxies(IOptionsMonitor<GatewayOptions> options)
    {
        _networks = Parse(options.CurrentValue.Forwarding.TrustedProxies);
        options.OnChange(o => _networks = Parse(o.Forwarding.TrustedProxies));
    }

    public bool Trusts(HttpContext context) => Trusts(context.Connection.RemoteIpAddress);

    /// <summary>Whether a connection from <paramref name="peer"/> comes from a trusted load balancer.</summary>
    public bool Trusts(IPAddress? peer)
    {
        var networks = _networks;
        if (networks.Length == 0 || peer is null)
        {
            return false;
        }

        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }

        foreach (var network in networks)
        {
            if (network.Contains(peer))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The scheme the client used: ours, or the one a trusted load balancer that terminated TLS reports.</summary>
    public bool ClientUsedHttps(HttpContext context)
    {
        if (context.Request.IsHttps)
        {
            return true;
        }

        return Trusts(context)
            && string.Equals(context.Request.Headers["X-Forwarded-Proto"].ToString().Split(',')[0].Trim(), "https", StringComparison.OrdinalIgnoreCase);
    }

    // Validated at start-up; an entry that stopped parsing on reload is skipped rather than trusted.
    private static IPNetwork[] Parse(string[] networks) =>
        [.. networks.Select(n => IPNetwork.TryParse(n, out var network) ? network : (IPNetwork?)null).OfType<IPNetwork>()];
}
