using System.Net;
using System.Net.Http.Headers;
using Gateway.Auth;
using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Tls;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// Strips <c>/ws/&lt;sid&gt;</c> (path routing; on a workspace's own origin the path is the workspace's
/// already) and tells the workspace who the client is. The browser's Host travels on (code-server answers 403
/// to a WebSocket whose Origin matches neither X-Forwarded-Host nor Host), and forwarding headers from the
/// client are replaced, never appended to, so they cannot be spoofed.
/// </summary>
internal sealed class WorkspaceRequestTransformer(AccessTokens tokens, WorkspaceAccessGate gate, TrustedProxies proxies, TunnelRelay relay, StrictTransportSecurity hsts, bool ownOrigin) : HttpTransformer
{
    private static readonly UriCreationOptions VerbatimUri = new() { DangerousDisablePathAndQueryCanonicalization = true };

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var request = httpContext.Request;
        var path = request.Path.Value!;
        var prefixLength = ownOrigin ? 0 : path.IndexOf('/', WorkspacePath.SidStart);
        var auth = tokens.Options;

        var headers = proxyRequest.Headers;
        await RemoveGatewayCredentialsAsync(request, headers, auth);
        SetForwardingHeaders(httpContext, headers, path, prefixLength);

        proxyRequest.RequestUri = new Uri(BuildTarget(httpContext, destinationPrefix, path, prefixLength, auth.TicketParameter), VerbatimUri);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);

        // A workspace serves pages on the gateway's origin; it must not set or clear the gateway's session
        // cookie, for its own path or another workspace's.
        var setCookie = httpContext.Response.Headers.SetCookie;
        var cookieName = tokens.Options.CookieName;
        if (setCookie.Count > 0 && SessionCookie.AnySets(setCookie, cookieName))
        {
            httpContext.Response.Headers.SetCookie = new([.. setCookie.Where(value => value is not null && !SessionCookie.Sets(value, cookieName))]);
        }

        gate.RenewSessionIfDue(httpContext, ownOrigin);
        hsts.Apply(httpContext);

        // YARP asks here whether to copy a body, after the headers and before its own copy of an upgraded
        // connection: the relay carries the tunnel instead and, when it is over, there is nothing left to copy.
        if (copyBody && proxyResponse is { StatusCode: HttpStatusCode.SwitchingProtocols, Version.Major: 1 }
            && httpContext.Features.Get<OpenTunnels.Tunnel>() is { } tunnel)
        {
            await relay.RelayAsync(httpContext, proxyResponse, tunnel);
            return false;
        }

        return copyBody;
    }

    /// <summary>The session cookie, a ticket used as Bearer: ours, never the workspace's (a workspace would hold its owner's credential), whatever the mode.</summary>
    private async ValueTask RemoveGatewayCredentialsAsync(HttpRequest request, HttpRequestHeaders headers, AuthOptions auth)
    {
        var cookies = request.Headers.Cookie;
        if (SessionCookie.MentionedIn(cookies, auth.CookieName))
        {
            headers.Remove("Cookie");
            if (SessionCookie.WithoutAll(cookies, auth.CookieName) is { } kept)
            {
                headers.TryAddWithoutValidation("Cookie", kept);
            }
        }

        // Another Authorization (say, the user's own app behind /proxy/<port>/) passes through untouched.
        if (WorkspaceAccessGate.TryGetBearer(request, out var bearer) && await gate.IsTicketAsync(bearer))
        {
            headers.Authorization = null;
        }
    }

    /// <summary>
    /// Who the client is. Headers from a trusted load balancer are extended; from anyone else they are
    /// replaced, never appended to, so a client cannot pose as another address or scheme.
    /// </summary>
    private void SetForwardingHeaders(HttpContext httpContext, HttpRequestHeaders headers, string path, int prefixLength)
    {
        var request = httpContext.Request;
        string? forwardedFor = httpContext.Connection.RemoteIpAddress?.ToString();
        var proto = request.Scheme;
        // The header as sent: HttpRequest.Host decodes punycode and throws on a malformed "xn--" label.
        var host = request.Headers.Host.ToString();
        if (proxies.Trusts(httpContext))
        {
            var prior = request.Headers["X-Forwarded-For"].ToString();
            forwardedFor = prior.Length == 0 ? forwardedFor : string.Concat(prior, ", ", forwardedFor);
            proto = FirstOr(request.Headers["X-Forwarded-Proto"].ToString(), proto);
            host = FirstOr(request.Headers["X-Forwarded-Host"].ToString(), host);
        }

        headers.Remove("Forwarded");
        headers.Remove("X-Forwarded-For");
        headers.Remove("X-Forwarded-Host");
        headers.Remove("X-Forwarded-Proto");
        headers.Remove("X-Forwarded-Prefix");
        if (forwardedFor is not null)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", proto);
        headers.TryAddWithoutValidation("X-Forwarded-Host", host);
        if (prefixLength > 0)
        {
            headers.TryAddWithoutValidation("X-Forwarded-Prefix", path[..prefixLength]);
        }
    }

    private static string FirstOr(string list, string fallback)
    {
        var first = list.Split(',')[0].Trim();
        return first.Length == 0 ? fallback : first;
    }

    /// <summary>
    /// The rest of the request target (all of it on a workspace's own origin) exactly as the client sent it (encoded characters and query byte
    /// for byte), when the raw target begins with the same <c>/ws/&lt;sid&gt;/</c> that routing saw.
    /// Otherwise (dot segments or encodings inside the prefix) the normalised path routing used is sent,
    /// so the workspace that gets the request is always the one its sid names. The ticket parameter is
    /// the gateway's and is taken out.
    /// </summary>
    private static string BuildTarget(HttpContext context, string destinationPrefix, string path, int prefixLength, string ticketParameter)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (rawTarget is not null && rawTarget.StartsWith('/') && rawTarget.AsSpan().StartsWith(path.AsSpan(0, prefixLength + 1), StringComparison.Ordinal))
        {
            var rest = rawTarget.AsSpan(prefixLength);
            var query = rest.IndexOf('?');
            if (query >= 0 && TicketParameter.MayContain(rest[query..], ticketParameter))
            {
                return string.Concat(destinationPrefix, rest[..query], TicketParameter.Without(rest[query..], ticketParameter));
            }

            return string.Concat(destinationPrefix, rest);
        }

        var queryString = context.Request.QueryString.Value;
        if (TicketParameter.MayContain(queryString, ticketParameter))
        {
            queryString = TicketParameter.Without(queryString, ticketParameter);
        }

        return string.Concat(destinationPrefix, new PathString(path[prefixLength..]).ToUriComponent(), queryString);
    }
}
