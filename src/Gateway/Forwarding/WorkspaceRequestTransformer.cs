using Gateway.Routing;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// Strips <c>/ws/&lt;sid&gt;</c> and tells the workspace who the client is. The browser's Host travels on
/// (code-server answers 403 to a WebSocket whose Origin matches neither X-Forwarded-Host nor Host), and
/// forwarding headers from the client are replaced, never appended to, so they cannot be spoofed.
/// </summary>
internal sealed class WorkspaceRequestTransformer : HttpTransformer
{
    private static readonly UriCreationOptions VerbatimUri = new() { DangerousDisablePathAndQueryCanonicalization = true };

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var request = httpContext.Request;
        var path = request.Path.Value!;
        var prefixLength = path.IndexOf('/', WorkspacePath.SidStart);

        var headers = proxyRequest.Headers;
        headers.Remove("Forwarded");
        headers.Remove("X-Forwarded-For");
        headers.Remove("X-Forwarded-Host");
        headers.Remove("X-Forwarded-Proto");
        headers.Remove("X-Forwarded-Prefix");
        if (httpContext.Connection.RemoteIpAddress is { } client)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        headers.TryAddWithoutValidation("X-Forwarded-Prefix", path[..prefixLength]);

        proxyRequest.RequestUri = new Uri(BuildTarget(httpContext, destinationPrefix, path, prefixLength), VerbatimUri);
    }

    /// <summary>
    /// The rest of the request target exactly as the client sent it (encoded characters and query byte
    /// for byte), when the raw target begins with the same <c>/ws/&lt;sid&gt;/</c> that routing saw.
    /// Otherwise (dot segments or encodings inside the prefix) the normalised path routing used is sent,
    /// so the workspace that gets the request is always the one its sid names.
    /// </summary>
    private static string BuildTarget(HttpContext context, string destinationPrefix, string path, int prefixLength)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (rawTarget is not null && rawTarget.AsSpan().StartsWith(path.AsSpan(0, prefixLength + 1), StringComparison.Ordinal))
        {
            return string.Concat(destinationPrefix, rawTarget.AsSpan(prefixLength));
        }

        return string.Concat(destinationPrefix, new PathString(path[prefixLength..]).ToUriComponent(), context.Request.QueryString.Value);
    }
}
