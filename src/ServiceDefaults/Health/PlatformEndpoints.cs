using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ServiceDefaults.Health;

/// <summary>
/// The probes every program answers, from its health checks: <c>/healthz</c> (alive: the process answers, no
/// check is run, so an outage of something it uses never gets it restarted) and <c>/readyz</c> (the checks
/// tagged <see cref="ReadinessTag"/>: 503 while one is unhealthy; degraded is still ready, with the reason).
/// </summary>
public static class PlatformEndpoints
{
    public const string LivenessPath = "/healthz";

    public const string ReadinessPath = "/readyz";

    /// <summary>The tag of the health checks <c>/readyz</c> runs.</summary>
    public const string ReadinessTag = "ready";

    public static readonly string[] Readiness = [ReadinessTag];

    /// <summary>Whether <paramref name="path"/> is one of the probes.</summary>
    public static bool IsProbe(PathString path) => path.Value is LivenessPath or ReadinessPath;

    public static IEndpointRouteBuilder MapPlatformEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(LivenessPath, new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = (context, _) => WriteAsync(context, "ok"),
        });
        endpoints.MapHealthChecks(ReadinessPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadinessTag),
            ResponseWriter = (context, report) => WriteAsync(context, Describe(report)),
        });
        return endpoints;
    }

    /// <summary>"ready", "ready; &lt;why degraded&gt;" or "not ready: &lt;why&gt;", in words a person reads in a probe's log.</summary>
    public static string Describe(HealthReport report)
    {
        var reasons = string.Join("; ", report.Entries
            .Where(entry => entry.Value.Status != HealthStatus.Healthy || !string.IsNullOrEmpty(entry.Value.Description))
            .Select(entry => entry.Value.Description ?? $"{entry.Key} is {entry.Value.Status.ToString().ToLowerInvariant()}"));
        return (report.Status, reasons.Length) switch
        {
            (_, 0) when report.Status != HealthStatus.Unhealthy => "ready",
            (HealthStatus.Unhealthy, _) => "not ready: " + reasons,
            _ => "ready; " + reasons,
        };
    }

    private static Task WriteAsync(HttpContext context, string text)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text + "\n");
    }
}
