using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Microsoft.Extensions.Options;
using ServiceDefaults.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// The one connection pool shared by all workspaces (dotnet/yarp#1176, #2460: per-request destinations
/// belong on a single invoker, not a cluster each). A reverse proxy must not follow redirects, keep
/// cookies, decompress, or go through a system proxy.
/// </summary>
internal sealed class WorkspaceHttpClient : IDisposable
{
    private int _openConnections;

    public WorkspaceHttpClient(IOptions<GatewayOptions> options)
    {
        Invoker = new HttpMessageInvoker(new RequestBodyFlushingHandler(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = options.Value.Forwarding.ConnectTimeout,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectCallback = ConnectAsync,
        }));
    }

    public HttpMessageInvoker Invoker { get; }

    /// <summary>TCP connections to workspaces open now, pooled and tunnelled: what the leak checks count.</summary>
    public int OpenConnections => Volatile.Read(ref _openConnections);

    public void Dispose() => Invoker.Dispose();

    // What SocketsHttpHandler does by default, plus a count of the sockets it leaves open; and a Unix socket
    // for a workspace whose route is one (its destination host carries the path).
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        Socket socket;
        if (UnixSocketHost.TryDecode(context.DnsEndPoint.Host, out var socketPath))
        {
            socket = await UnixSocketConnection.ConnectAsync(socketPath, cancellationToken);
        }
        else
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        Interlocked.Increment(ref _openConnections);
        return new CountedNetworkStream(socket, this);
    }

    private sealed class CountedNetworkStream(Socket socket, WorkspaceHttpClient owner) : NetworkStream(socket, ownsSocket: true)
    {
        private int _disposed;

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._openConnections);
            }

            base.Dispose(disposing);
        }
    }
}
