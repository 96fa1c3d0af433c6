using Gateway.Errors;
using ServiceDefaults.Health;

namespace Gateway.Routing;

/// <summary>
/// What is not a workspace (the platform's page and API) only on the platform's names: a page on another
/// origin that resolves its own name to the gateway (DNS rebinding) must not read the platform's answers as
/// its own. Runs after workspace traffic has been served; health probes come by the pod's address and pass.
/// </summary>
internal sealed class PlatformHostGuard(RequestDelegate next, PlatformHosts hosts)
{
    public Task InvokeAsync(HttpContext context) =>
        hosts.Serves(context.Request.Headers.Host.ToString()) || PlatformEndpoints.IsProbe(context.Request.Path)
            ? next(context)
            : GatewayProblemWriter.WriteAsync(context, GatewayProblem.UnknownHost);
}
