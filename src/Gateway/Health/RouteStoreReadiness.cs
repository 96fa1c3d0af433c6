using Gateway.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Health;

/// <summary>
/// Ready once Redis has answered and the invalidation subscription has been proven to work. Not withdrawn when
/// Redis goes away later: Redis is shared by every replica, so that would take them all out of the Service at
/// once, while each still serves its cached workspaces (stale routes are served through an outage). Degraded
/// (still ready, with the reason) while invalidations are not arriving.
/// </summary>
internal sealed class RouteStoreReadiness(RouteInvalidationListener listener, GatewayShutdown shutdown) : IHealthCheck
{
    private static readonly Task<HealthCheckResult> NotStarted = Task.FromResult(HealthCheckResult.Unhealthy(
        "Redis has not answered yet (no route can be looked up, no invalidation received)"));

    private static readonly Task<HealthCheckResult> Live = Task.FromResult(HealthCheckResult.Healthy());

    private static readonly Task<HealthCheckResult> Away = Task.FromResult(HealthCheckResult.Degraded(
        "Redis is away: cached routes are served, uncached workspaces answer 503"));

    private static readonly Task<HealthCheckResult> Stopping = Task.FromResult(HealthCheckResult.Unhealthy(
        "shutting down (requests in flight are finished; new ones belong on another replica)"));

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        shutdown.IsDraining ? Stopping : !listener.HasStarted ? NotStarted : listener.IsLive ? Live : Away;
}
