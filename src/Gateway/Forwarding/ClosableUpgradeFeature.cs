using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Forwarding;

/// <summary>Hands YARP the browser's upgraded stream wrapped so the gateway can close it with 1001 on shutdown.</summary>
internal sealed class ClosableUpgradeFeature(IHttpUpgradeFeature inner, OpenTunnels.Tunnel tunnel) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync()
    {
        var stream = new ClosableWebSocketStream(await inner.UpgradeAsync());
        tunnel.WebSocket = stream;
        return stream;
    }
}
