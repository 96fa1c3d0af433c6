using System.Buffers;
using Gateway.Auth;
using Gateway.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Workbench;

/// <summary>
/// Forwards the editor's page as <paramref name="inner"/> does, with <see cref="WorkbenchNotice"/>'s script
/// tag in it. Only this one small page per editor load passes here; every other request keeps the copy
/// YARP streams. The tag carries the workspace's name from the owner's session, for the welcome.
/// </summary>
internal sealed class WorkbenchDocumentTransformer(WorkspaceRequestTransformer inner, WorkspaceAccessGate gate, bool ownOrigin) : HttpTransformer
{
    // code-server's page is about 3 KiB, sent chunked. Anything far larger is not the workbench and goes through
    // as it came: the workspace is not trusted to bound what the gateway would hold.
    private const int MaxPage = 256 * 1024;

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await inner.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        // The page is edited on its way: ask for it uncompressed.
        proxyRequest.Headers.AcceptEncoding.Clear();
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copyBody = await inner.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (!copyBody || proxyResponse is null || !WorkbenchNotice.CanInject(proxyResponse)
            || proxyResponse.Content.Headers.ContentLength > MaxPage)
        {
            return copyBody;
        }

        var body = await proxyResponse.Content.ReadAsStreamAsync(cancellationToken);
        var page = ArrayPool<byte>.Shared.Rent(MaxPage + 1);
        try
        {
            var length = await body.ReadAtLeastAsync(page.AsMemory(0, MaxPage + 1), MaxPage + 1, throwOnEndOfStream: false, cancellationToken);
            var response = httpContext.Response.Body;
            if (length > MaxPage)
            {
                await response.WriteAsync(page.AsMemory(0, length), cancellationToken);
                await body.CopyToAsync(response, cancellationToken);
                return false;
            }

            var edited = WorkbenchNotice.Inject(page.AsSpan(0, length), gate.WorkspaceName(httpContext, ownOrigin));
            httpContext.Response.ContentLength = edited.Length;
            await response.WriteAsync(edited, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(page);
        }

        return false;
    }
}
