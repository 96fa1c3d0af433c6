using Gateway.Routing;

namespace Gateway.Health;

/// <summary>
/// Kubernetes probes. Served by the gateway itself: <c>/healthz</c> and <c>/readyz</c> are not under
/// <c>/ws/</c> and literal routes outrank any static catch-all, so neither ever reaches a workspace.
/// </summary>
internal static class HealthEndpoints
{
    /// <summary>Whether <paramref name="path"/> is one of the probes.</summary>
    public static bool IsProbe(PathString path) => path.Value is "/healthz" or "/readyz";

    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        // Alive: the process answers. Never depends on Redis, so an outage does not get pods restarted.
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok\n"));

        // Ready once Redis has answered and the invalidation subscription has been proven to work. Not
        // withdrawn when Redis goes away later: Redis is shared by every replica, so that would take them all
        // out of the Service at once, while each still serves its cached workspaces (stale routes are served
        // through an outage). The body says whether invalidations are arriving now.
        endpoints.MapGet("/readyz", (RouteInvalidationListener listener) =>
            !listener.HasStarted
                ? TypedResults.Text("not ready: Redis has not answered yet (no route can be looked up, no invalidation received)\n",
                    statusCode: StatusCodes.Status503ServiceUnavailable)
                : listener.IsLive
                    ? TypedResults.Text("ready\n")
                    : TypedResults.Text("ready; Redis is away: cached routes are served, uncached workspaces answer 503\n"));
        return endpoints;
    }
}
