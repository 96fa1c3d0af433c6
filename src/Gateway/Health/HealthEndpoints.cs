using Gateway.Routing;

namespace Gateway.Health;

/// <summary>
/// Kubernetes probes. Served by the gateway itself: <c>/healthz</c> and <c>/readyz</c> are not under
/// <c>/ws/</c> and literal routes outrank any static catch-all, so neither ever reaches a workspace.
/// </summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        // Alive: the process answers. Never depends on Redis, so an outage does not get pods restarted.
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok\n"));

        // Ready: our heartbeats travel through Redis and back over the subscription, which proves both that
        // lookups can be answered and that invalidations are being received.
        endpoints.MapGet("/readyz", (RouteInvalidationListener listener) => listener.IsLive
            ? TypedResults.Text("ready\n")
            : TypedResults.Text("not ready: route invalidations are not being received (Redis unreachable or subscription down)\n",
                statusCode: StatusCodes.Status503ServiceUnavailable));
        return endpoints;
    }
}
