using Gateway.Errors;
using Microsoft.Net.Http.Headers;

namespace Gateway.Forwarding;

/// <summary>
/// Refuses an HTTP/1.0 request with Transfer-Encoding before anything is forwarded (RFC 9112 §6.1: its
/// framing is faulty and the connection must close). Kestrel reads the chunked body and keeps the connection
/// open when the client asks for keep-alive; a load balancer in front that reads it the other way would fall
/// out of step with us about where the next request starts (request smuggling).
/// </summary>
internal sealed class MessageFramingGuard(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;

        if (HttpProtocol.IsHttp10(request.Protocol) && request.Headers.ContainsKey(HeaderNames.TransferEncoding))
        {
            return RefuseAsync(context);
        }

        return next(context);
    }

    private static Task RefuseAsync(HttpContext context)
    {
        // Kestrel closes the connection after a response that says so, without reading what follows.
        context.Response.Headers.Connection = "close";
        return GatewayProblemWriter.WriteAsync(context, GatewayProblem.InvalidFraming);
    }
}
