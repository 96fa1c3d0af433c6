using Gateway.Configuration;
using Gateway.Forwarding;
using Microsoft.Extensions.Options;

namespace Gateway.Telemetry;

/// <summary>
/// Registers the gauges read from live counts (open tunnels, optionally per sid, and sockets to
/// workspaces) once the counters exist; whoever listens to the <c>Gateway</c> meter reads them.
/// </summary>
internal sealed class LiveCountGauges(
    IOptions<GatewayOptions> options,
    GatewayMetrics metrics,
    OpenTunnels tunnels,
    WorkspaceHttpClient workspaces,
    IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Telemetry;
        var fastPath = options.Value.Forwarding.FastPath ? services.GetRequiredService<FastPath.FastPathMiddleware>() : null;
        metrics.Observe(
            () => tunnels.Count,
            () => workspaces.OpenConnections + (fastPath?.OpenWorkspaceConnections ?? 0),
            settings.TunnelsPerSid ? () => tunnels.CountsBySid(settings.MaxSidSeries) : null);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
