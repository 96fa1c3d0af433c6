using System.Diagnostics;
using System.Net;
using Gateway.Configuration;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// The one connection pool shared by all workspaces (dotnet/yarp#1176, #2460: per-request destinations
/// belong on a single invoker, not a cluster each). A reverse proxy must not follow redirects, keep
/// cookies, decompress, or go through a system proxy.
/// </summary>
internal sealed class WorkspaceHttpClient : IDisposable
{
    public WorkspaceHttpClient(IOptions<GatewayOptions> options)
    {
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = options.Value.Forwarding.ConnectTimeout,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        });
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}
