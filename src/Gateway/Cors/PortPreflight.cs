using Gateway.Routing;
using Microsoft.Net.Http.Headers;

namespace Gateway.Cors;

/// <summary>
/// Answers CORS preflights to a workspace's private dev-server ports. A browser sends a preflight without
/// credentials (Fetch standard, CORS-preflight request), so answering it like any other request would be a
/// 401, and an app split over two ports of one workspace (a front end on 5173 calling an API on 8080) could
/// never make a credentialed call (gitpod-io/gitpod#14576). The gateway answers it itself, without contacting
/// the workspace: from another origin of the same workspace it allows what was asked, credentials included
/// (the real request still needs its cookie, and the app's own CORS headers decide whether the page may read
/// the answer); from any other origin it allows nothing. The answer is the same whether the workspace exists
/// or runs, so a preflight learns nothing. The editor's origin is not covered: no dev-server page may send it
/// credentialed requests.
/// </summary>
internal sealed class PortPreflight(WorkspaceHostParser hosts)
{
    private const int MaxAgeSeconds = 600;

    public static bool IsPreflight(HttpRequest request) =>
        HttpMethods.IsOptions(request.Method)
        && request.Headers.ContainsKey(HeaderNames.Origin)
        && request.Headers.ContainsKey(HeaderNames.AccessControlRequestMethod);

    /// <summary>Writes the answer to a preflight for the port origin whose sid is <paramref name="sid"/>.</summary>
    public void Answer(HttpContext context, ReadOnlySpan<char> sid)
    {
        var request = context.Request;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status204NoContent;
        response.Headers.Vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
        response.Headers.CacheControl = "no-store";

        var origin = request.Headers.Origin.ToString();
        if (!IsOriginOfSameWorkspace(origin, sid))
        {
            return;
        }

        response.Headers.AccessControlAllowOrigin = origin;
        response.Headers.AccessControlAllowCredentials = "true";
        response.Headers.AccessControlAllowMethods = request.Headers.AccessControlRequestMethod;
        if (request.Headers.AccessControlRequestHeaders.Count > 0)
        {
            response.Headers.AccessControlAllowHeaders = request.Headers.AccessControlRequestHeaders;
        }

        response.Headers.AccessControlMaxAge = MaxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    // "<scheme>://<host>[:<port>]" exactly (RFC 6454 §7), naming the same sid; "null" and anything else does not.
    private bool IsOriginOfSameWorkspace(string origin, ReadOnlySpan<char> sid)
    {
        var schemeEnd = origin.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0 || !(origin.AsSpan(0, schemeEnd) is "http" or "https"))
        {
            return false;
        }

        return hosts.IsOriginOf(origin[(schemeEnd + 3)..], sid);
    }
}
