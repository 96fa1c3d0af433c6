using Microsoft.AspNetCore.Diagnostics;
using Operator.Drivers.Kubernetes;

namespace Operator.Api;

/// <summary>
/// The Kubernetes API or Redis failing under a request is not our bug: the caller gets 503 with what
/// failed (and may retry), not a 500. Anything else still reaches the default handler as a 500.
/// </summary>
internal sealed partial class UpstreamFailureHandler(IProblemDetailsService problems, ILogger<UpstreamFailureHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var what = exception switch
        {
            k8s.Autorest.HttpOperationException or k8s.KubernetesException => $"the Kubernetes API answered {ApiErrors.Describe(exception)}",
            HttpRequestException => "the Kubernetes API is unreachable",
            TimeoutException or StackExchange.Redis.RedisException => "Redis is unavailable",
            _ => null,
        };
        if (what is null)
        {
            return false;
        }

        LogUpstreamFailure(exception, httpContext.Request.Path, what);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "5";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = "Unavailable", Detail = what + "; try again shortly" },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: {What}")]
    private partial void LogUpstreamFailure(Exception exception, string path, string what);
}
