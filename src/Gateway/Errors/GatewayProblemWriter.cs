using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Telemetry;

namespace Gateway.Errors;

/// <summary>
/// Writes a <see cref="GatewayProblem"/> as RFC 9457 problem JSON to clients that ask for JSON and as a
/// small HTML page to browsers. Errors are never cached: the same address works once the workspace runs.
/// </summary>
internal static class GatewayProblemWriter
{
    /// <param name="challenge">A WWW-Authenticate value for 401 and 403 (RFC 6750 §3).</param>
    public static Task WriteAsync(HttpContext context, GatewayProblem problem, string? sid = null, int? retryAfterSeconds = null, string? challenge = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        // Errors are rare next to requests: a service lookup here keeps the writer static and simple.
        context.RequestServices?.GetService<GatewayMetrics>()?.Error(problem.Code);

        response.Clear();
        context.RequestServices?.GetService<Tls.StrictTransportSecurity>()?.Apply(context);
        response.StatusCode = problem.Status;
        response.Headers.CacheControl = "no-store";
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (challenge is not null)
        {
            response.Headers.WWWAuthenticate = challenge;
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        return WantsJson(context.Request) ? WriteJsonAsync(response, problem, sid) : WriteHtmlAsync(response, problem);
    }

    private static bool WantsJson(HttpRequest request)
    {
        foreach (var accept in request.Headers.Accept)
        {
            if (accept is not null && accept.Contains("json", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task WriteJsonAsync(HttpResponse response, GatewayProblem problem, string? sid)
    {
        response.ContentType = "application/problem+json";
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteString("type", "about:blank");
            json.WriteString("title", problem.Title);
            json.WriteNumber("status", problem.Status);
            json.WriteString("detail", problem.Detail);
            json.WriteString("code", problem.Code);
            if (sid is not null)
            {
                json.WriteString("sid", sid);
            }

            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync();
    }

    private static Task WriteHtmlAsync(HttpResponse response, GatewayProblem problem)
    {
        response.ContentType = "text/html; charset=utf-8";
        var title = HtmlEncoder.Default.Encode(problem.Title);
        var detail = HtmlEncoder.Default.Encode(problem.Detail);
        return response.WriteAsync(
            $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{problem.Status} {title}</title></head>"
            + $"<body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{detail}</p>"
            + $"<p style=\"color:#777\">HTTP {problem.Status}</p></body></html>");
    }
}
