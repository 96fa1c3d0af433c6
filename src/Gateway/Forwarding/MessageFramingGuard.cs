using Gateway.Errors;
using Microsoft.Net.Http.Headers;

namespace Gateway.Forwarding;

/// <summary>
/// Refuses, before anything is forwarded, requests whose framing the next hop could read otherwise than we do:
/// an HTTP/1.0 request with Transfer-Encoding (RFC 9112 §6.1: its framing is faulty and the connection must
/// close; Kestrel reads the chunked body and keeps the connection open when the client asks for keep-alive, and
/// a load balancer in front that reads it the other way would fall out of step with us about where the next
/// request starts), and a CONNECT that is not a WebSocket over HTTP/2 (RFC 8441): forwarded, it would ask a
/// workspace or the web API to open a tunnel for whoever sent it.
/// </summary>
internal sealed class MessageFramingGuard(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;

        if (HttpProtocol.IsHttp10(request.Protocol) && request.Headers.ContainsKey(HeaderNames.TransferEncoding))
        {
            // Kestrel closes the connection after a response that says so, without reading what follows.
            context.Response.Headers.Connection = "close";
            return GatewayProblemWriter.WriteAsync(context, GatewayProblem.InvalidFraming);
        }

        if (HttpMethods.IsConnect(request.Method) && !ForwardingSettings.IsWebSocketOverHttp2(context))
        {
            return GatewayProblemWriter.WriteAsync(context, GatewayProblem.UnsupportedConnect);
        }

        return next(context);
    }
}
